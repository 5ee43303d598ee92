package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestNoThreePIDServerPausesTheCampaign is issue 11's breaker as an
// operator meets it: a server without 3PID invites (Conduit's answer) fails
// the first invites alike, the campaign pauses, worker --until-idle exits
// 4 with the reason, status shows it (and --json's "paused"), and after the
// server is fixed, resume sends the rest.
func TestNoThreePIDServerPausesTheCampaign(t *testing.T) {
	const n = 50
	e := newCLIEnv(t, simulator.Config{NoThreePID: simulator.NoThreePIDConduit})
	var list strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&list, "member%02d@example.org\n", i)
	}
	file := e.file("list.txt", list.String())
	if r := mxinvite(t, join([]string{"enqueue", "--room", simulator.DefaultRoomID, "--campaign", "c3", "--file", file, "--no-preflight"},
		e.redisArgs(), e.profileArgs())...); r.code != 0 {
		t.Fatalf("enqueue: exit %d\n%s", r.code, r.stderr)
	}
	worker := join([]string{"worker", "--until-idle", "--concurrency", "4"}, e.redisArgs(), e.profileArgs())
	r := mxinvite(t, worker...)
	if r.code != exitHeld || !strings.Contains(r.stderr, "campaign c3") || !strings.Contains(r.stderr, "M_NOT_FOUND") {
		t.Fatalf("worker: exit %d, want %d naming the campaign's pause\n%s", r.code, exitHeld, r.stderr)
	}
	if n := strings.Count("\n"+r.stderr, "\nmxinvite: "); n != 1 { // the rest of stderr is the log
		t.Errorf("%d error lines, want one: %s", n, r.stderr)
	}
	denied := e.sim.Stats().ThreePIDDenied
	if denied > 5+4 {
		t.Fatalf("%d invites sent to a server without 3PID invites; want at most the breaker (5) plus those in flight (4)", denied)
	}

	st := mxinvite(t, join([]string{"status", "--campaign", "c3"}, e.redisArgs())...)
	if st.code != 0 || !strings.Contains(st.stdout, "PAUSED (campaign c3") || !strings.Contains(st.stdout, "mxinvite resume --campaign c3") {
		t.Fatalf("status: exit %d\n%s", st.code, st.stdout)
	}
	js := mxinvite(t, join([]string{"status", "--campaign", "c3", "--json"}, e.redisArgs())...)
	var got struct {
		Paused *struct{ Scope, Name, Kind, Reason string } `json:"paused"`
		ETA    *float64                                    `json:"eta_seconds"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &got); err != nil || got.Paused == nil ||
		got.Paused.Scope != "campaign" || got.Paused.Kind != "breaker" || got.ETA != nil {
		t.Fatalf("status --json: %v %s", err, js.stdout)
	}

	if err := e.sim.SetNoThreePID(simulator.ThreePIDSupported); err != nil { // the operator fixed the server
		t.Fatal(err)
	}
	if r := mxinvite(t, join([]string{"resume", "--campaign", "c3"}, e.redisArgs())...); r.code != 0 || !strings.Contains(r.stdout, "campaign c3 resumed") {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := mxinvite(t, join([]string{"resume", "--campaign", "c3"}, e.redisArgs())...); r.code != exitUsage {
		t.Fatalf("second resume: exit %d, want %d (not paused)", r.code, exitUsage)
	}
	if r := mxinvite(t, worker...); r.code != 0 {
		t.Fatalf("worker after resume: exit %d\n%s", r.code, r.stderr)
	}
	if acc := int(e.sim.Stats().Accepted); acc != n-int(denied) {
		t.Fatalf("%d accepted after the fix; want the %d not sent before", acc, n-int(denied))
	}
	st = mxinvite(t, join([]string{"status", "--campaign", "c3"}, e.redisArgs())...)
	if !strings.Contains(st.stdout, fmt.Sprintf("Success (0)                  %d", n-int(denied))) || strings.Contains(st.stdout, "PAUSED") {
		t.Fatalf("status after resume:\n%s", st.stdout)
	}
}
