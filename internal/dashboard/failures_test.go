package dashboard

import (
	"fmt"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// Failures are grouped by status, HTTP status, errcode and message; the
// biggest group first; within a group, newest first whatever the enqueue
// order; at most the sample size kept per group.
func TestGroupFailures(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 3, 27, 0, 0, time.UTC)
	var res []record.Result
	add := func(addr string, code matrix.StatusCode, http int, errcode, msg string, sec int) {
		res = append(res, record.Result{Campaign: "c", Address: addr, State: record.StateDone, Status: code.String(), StatusCode: code,
			HTTPStatus: http, ErrCode: errcode, Error: msg, FinishedAt: t0.Add(time.Duration(sec) * time.Second)})
	}
	add("ok@x.org", matrix.Success, 200, "", "", 1)
	for i, sec := range []int{22, 28, 17, 40, 5} { // enqueue order is not finish order
		add(fmt.Sprintf("f%d@x.org", i), matrix.ContentAccessError, 403, "M_FORBIDDEN", "not allowed", sec)
	}
	add("n1@x.org", matrix.NotFound, 404, "M_NOT_FOUND", "no room", 3)
	add("n2@x.org", matrix.ContentAccessError, 403, "M_FORBIDDEN", "other message", 9)
	src := &fakeSource{results: map[string][]record.Result{"c": res}}
	g, err := groupFailures(t.Context(), src, "c", 3)
	if err != nil {
		t.Fatal(err)
	}
	if g.Total != 7 || len(g.Groups) != 3 || g.Other != 0 {
		t.Fatalf("total %d, %d groups, other %d", g.Total, len(g.Groups), g.Other)
	}
	big := g.Groups[0]
	if big.N != 5 || big.Error != "not allowed" || len(big.Newest) != 3 || !big.Latest.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("biggest group %+v", big)
	}
	for i, want := range []string{"f3@x.org", "f1@x.org", "f0@x.org"} {
		if big.Newest[i].Address != want {
			t.Errorf("newest[%d] = %s, want %s (newest first)", i, big.Newest[i].Address, want)
		}
	}
	if g.Groups[1].N != 1 || g.Groups[2].N != 1 || g.Groups[1].ID == g.Groups[2].ID || g.Groups[1].ID == big.ID {
		t.Errorf("small groups %+v %+v", g.Groups[1], g.Groups[2])
	}
}
