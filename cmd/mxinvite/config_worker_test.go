package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// TestWorkerServesEveryConfiguredSender: one worker process, started from a
// config file naming two senders on two homeservers (each with its own
// token and identity server), sends each sender's invites to its own
// server and nowhere else.
func TestWorkerServesEveryConfiguredSender(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	const tokenB = "token-of-the-second-homeserver"
	simB, tsB := simtest.NewServer(t, simulator.Config{Users: []simulator.User{{AccessToken: tokenB, UserID: simulator.DefaultUserID}}})
	path := e.file("mxinvite.yaml", e.configYAML(
		e.simSender("alice", e.ts.URL, simtest.IDServer(e.ts), simulator.DefaultAccessToken)+
			e.simSender("bob", tsB.URL, simtest.IDServer(tsB), tokenB)+"    concurrency: 1\n"))

	lists := map[string]int{"alice": 5, "bob": 3}
	for sender, n := range lists {
		var rows strings.Builder
		for i := range n {
			fmt.Fprintf(&rows, "%s%d@example.org\n", sender, i)
		}
		r := mxinvite(t, "enqueue", "--config", path, "--sender", sender, "--no-preflight",
			"--room", simulator.DefaultRoomID, "--campaign", "c-"+sender, "--file", e.file(sender+".txt", rows.String()))
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("enqueued %d,", n)) {
			t.Fatalf("enqueue --sender %s: exit %d\n%s\n%s", sender, r.code, r.stdout, r.stderr)
		}
	}

	if r := mxinvite(t, "worker", "--config", path, "--until-idle", "--log-level", "error", "--identity-scheme", "http"); r.code != 0 {
		t.Fatalf("worker: exit %d\n%s", r.code, r.stderr)
	}

	for sim, want := range map[*simulator.Server]int{e.sim: lists["alice"], simB: lists["bob"]} {
		if st := sim.Stats(); st.Accepted != int64(want) || st.InviteRequests != int64(want) || st.Duplicates != 0 {
			t.Errorf("a homeserver accepted %d of %d requests (%d duplicates), want %d", st.Accepted, st.InviteRequests, st.Duplicates, want)
		}
	}
	for sender, n := range lists {
		r := mxinvite(t, "status", "--config", path, "--campaign", "c-"+sender)
		if want := fmt.Sprintf("campaign c-%s: %d enqueued, 0 pending, %d done", sender, n, n); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("status: exit %d, want %q in\n%s%s", r.code, want, r.stdout, r.stderr)
		}
		if words := strings.Join(strings.Fields(r.stdout), " "); !strings.Contains(words, fmt.Sprintf("Success (0) %d requests", n)) {
			t.Errorf("status of c-%s: want %d Success in\n%s", sender, n, r.stdout)
		}
	}
}
