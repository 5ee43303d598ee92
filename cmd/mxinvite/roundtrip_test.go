package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestResultsFailedReimport is the operator's loop: enqueue a list, let a
// worker send it, export the failures as CSV, and enqueue that file again
// with --again; meanwhile status --watch follows the campaign to its end.
func TestResultsFailedReimport(t *testing.T) {
	// dave@example.net and ivan@example.org are refused once each, then accepted.
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@example.net", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1},
		{Pattern: "ivan@*", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1},
	}})
	enqueue := func(file string, extra ...string) result {
		return mxinvite(t, join([]string{"enqueue", "--no-preflight"}, e.redisArgs(), e.profileArgs(), []string{
			"--room", simulator.DefaultRoomID, "--campaign", "spring", "--file", file,
			"--rejects", filepath.Join(e.dir, "rejects.csv"),
		}, extra)...)
	}
	if r := enqueue(listPath("good_bad_dups.csv")); r.code != 0 || !strings.Contains(r.stdout, "enqueued 10,") {
		t.Fatalf("enqueue: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}

	var watch result
	var wg sync.WaitGroup
	wg.Go(func() {
		watch = mxinvite(t, join([]string{"status", "--campaign", "spring", "--watch"}, e.redisArgs())...)
	})
	e.runWorker()
	wg.Wait()
	if watch.code != 0 || !strings.Contains(watch.stdout, "campaign spring: 10 enqueued, 0 pending, 10 done") {
		t.Fatalf("status --watch: exit %d\n%s\n%s", watch.code, watch.stdout, watch.stderr)
	}

	failed := filepath.Join(e.dir, "failed.csv")
	r := mxinvite(t, join([]string{"results", "--campaign", "spring", "--failed", "--format", "csv", "-o", failed}, e.redisArgs())...)
	if r.code != 0 {
		t.Fatalf("results: exit %d %s", r.code, r.stderr)
	}
	got := csvColumn(t, failed, "address")
	slices.Sort(got)
	if strings.Join(got, " ") != "dave@example.net ivan@example.org" {
		t.Fatalf("failed addresses %q", got)
	}

	// Without --again the failures are counted as done, not re-sent.
	if r := enqueue(failed); r.code != 0 || !strings.Contains(r.stdout, "read 2, valid 2, enqueued 0, duplicates 0, already queued 0, already done 2, rejected 0") {
		t.Fatalf("re-import without --again: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if r := enqueue(failed, "--again"); r.code != 0 || !strings.Contains(r.stdout, "read 2, valid 2, enqueued 2, duplicates 0") {
		t.Fatalf("re-import with --again: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	e.runWorker()
	r = mxinvite(t, join([]string{"results", "--campaign", "spring", "--failed", "--format", "csv"}, e.redisArgs())...)
	if lines := strings.Count(r.stdout, "\n"); r.code != 0 || lines != 1 {
		t.Fatalf("failures left after the re-import: %s", r.stdout)
	}
	// 8 accepted the first time, the 2 refused ones on their re-invite.
	if st := e.sim.Stats(); st.Accepted != 10 || st.Duplicates != 0 {
		t.Errorf("the simulator accepted %d invites (%d duplicates), want 10 (0)", st.Accepted, st.Duplicates)
	}
}

// runWorker runs mxinvite worker until no invite is pending.
func (e *cliEnv) runWorker() {
	e.t.Helper()
	args := join([]string{"worker", "--until-idle", "--log-level", "error", "--concurrency", "4"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(e.t, args...); r.code != 0 {
		e.t.Fatalf("worker: exit %d\n%s", r.code, r.stderr)
	}
}

// csvColumn returns one column of a CSV file with a header, in file order.
func csvColumn(t *testing.T, path, column string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	col := -1
	for i, name := range rows[0] {
		if name == column {
			col = i
		}
	}
	var out []string
	for _, row := range rows[1:] {
		out = append(out, row[col])
	}
	return out
}
