package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// Issue 22's turns, through the CLI against the simulator. Their timing
// goals (seconds) are `make bench` rows I22a–c; here the outcome is counted
// in requests, which do not depend on the machine's speed: how many
// invites of the other campaign or sender went out before the last of the
// ones that should not wait behind them.

// done is how many of campaign's invites are final.
func (e *cliEnv) done(campaign string) int {
	e.t.Helper()
	c, err := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).Counts(context.Background(), campaign)
	if err != nil {
		e.t.Fatal(err)
	}
	return c.States[record.StateDone]
}

// One worker, two senders: sender a's 300 invites, on a server limiting it
// to a burst of 5 then 2/s, are queued first; sender b's 10 (another
// server, no limit) do not wait for them: a's slots are its own.
func TestSendersDoNotWaitBehindEachOther(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	simA, tsA := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{Burst: 5, PerSecond: 2}})
	cfg := e.file("mxinvite.yaml", e.configYAML(
		e.simSender("a", tsA.URL, simtest.IDServer(tsA), simulator.DefaultAccessToken)+
			e.simSender("b", e.ts.URL, simtest.IDServer(e.ts), simulator.DefaultAccessToken)))
	enqueue := func(sender, campaign string, list []string) {
		args := []string{"enqueue", "--no-preflight", "--config", cfg, "--identity-scheme", "http", "--sender", sender,
			"--room", simulator.DefaultRoomID, "--campaign", campaign, "--file", e.file(campaign+".txt", strings.Join(list, "\n")+"\n")}
		if r := mxinvite(t, args...); r.code != 0 {
			t.Fatalf("enqueue %s: exit %d %s", campaign, r.code, r.stderr)
		}
	}
	enqueue("a", "a-bulk", addrs("bulk", 0, 300))
	enqueue("b", "b-small", addrs("small", 0, 10))
	stop := runInBackground(t, "worker", "--log-level", "error", "--config", cfg, "--identity-scheme", "http")
	c := e.waitFinal("b-small", 10, time.Minute)
	aDone := e.done("a-bulk")
	_, stderr := stop()
	if c.Statuses["Success"] != 10 || e.sim.Stats().Accepted != 10 || e.sim.Stats().Duplicates != 0 {
		t.Fatalf("b-small %+v, sender b's server accepted %d (%d duplicates): want 10 Success, once each\n%s",
			c, e.sim.Stats().Accepted, e.sim.Stats().Duplicates, stderr)
	}
	// At 2/s, a's 300 take 150 s; b's 10 went out while a had sent a few.
	if aDone > 40 || simA.Stats().Duplicates != 0 {
		t.Fatalf("sender a finished %d invites before sender b's 10 were final (%d duplicates); want b not to wait behind a",
			aDone, simA.Stats().Duplicates)
	}
	t.Logf("sender a: %d of 300 final when sender b's 10 were", aDone)
}

// A low-priority campaign waits while a normal one has invites due: while
// bulk sends 40 more, low's 10 get no turn (one may have been waiting for
// the gate already).
func TestLowPriorityWaitsBehindNormal(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{RateLimit: simulator.RateLimit{Burst: 5, PerSecond: 4}})
	if r := mxinvite(t, e.enqueueArgs("bulk", e.file("bulk.txt", strings.Join(addrs("bulk", 0, 400), "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue bulk: exit %d %s", r.code, r.stderr)
	}
	stop := e.workerInBackground("--concurrency", "10")
	e.waitFinal("bulk", 12, time.Minute)
	args := e.enqueueArgs("later", e.file("later.txt", strings.Join(addrs("later", 0, 10), "\n")+"\n"), "--priority", "low")
	if r := mxinvite(t, args...); r.code != 0 {
		t.Fatalf("enqueue later: exit %d %s", r.code, r.stderr)
	}
	e.waitFinal("bulk", e.done("bulk")+40, time.Minute)
	low := e.done("later")
	if code, stderr := stop(); code != 0 {
		t.Fatalf("worker exit %d\n%s", code, stderr)
	}
	if low > 1 {
		t.Fatalf("%d of the low-priority campaign went out while bulk sent 40, want at most 1", low)
	}
}

// One sender limited to a burst of 5 then 4/s: campaign bulk (400) is
// going out when urgent (10) is enqueued. Without a priority urgent shares
// the sender's turns; with --priority high it goes before bulk's waiting
// invites. Either way it does not wait for bulk's 400.
func TestCampaignsOfASenderTakeTurns(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra []string
		most  int // bulk invites final between urgent's enqueue and its end
	}{
		// 10 of bulk were in flight, waiting for the gate, when urgent came.
		{"no priority", nil, 25},
		{"high", []string{"--priority", "high"}, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCLIEnv(t, simulator.Config{RateLimit: simulator.RateLimit{Burst: 5, PerSecond: 4}})
			if r := mxinvite(t, e.enqueueArgs("bulk", e.file("bulk.txt", strings.Join(addrs("bulk", 0, 400), "\n")+"\n"))...); r.code != 0 {
				t.Fatalf("enqueue bulk: exit %d %s", r.code, r.stderr)
			}
			stop := e.workerInBackground("--concurrency", "10")
			e.waitFinal("bulk", 12, time.Minute)
			before := e.done("bulk")
			args := e.enqueueArgs("urgent", e.file("urgent.txt", strings.Join(addrs("urgent", 0, 10), "\n")+"\n"), tc.extra...)
			if r := mxinvite(t, args...); r.code != 0 {
				t.Fatalf("enqueue urgent: exit %d %s", r.code, r.stderr)
			}
			c := e.waitFinal("urgent", 10, 2*time.Minute)
			ahead := e.done("bulk") - before
			code, stderr := stop()
			if c.Statuses["Success"] != 10 || code != 0 || e.sim.Stats().Duplicates != 0 {
				t.Fatalf("urgent %+v, worker exit %d, %d duplicates\n%s", c, code, e.sim.Stats().Duplicates, stderr)
			}
			if ahead > tc.most {
				t.Fatalf("%d of bulk went out before urgent's 10 were final, want at most %d (bulk has 400)", ahead, tc.most)
			}
			t.Logf("%d of bulk final between urgent's enqueue and its last invite", ahead)
		})
	}
}
