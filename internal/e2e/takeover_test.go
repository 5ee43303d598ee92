package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// Issue 23: a crashed worker's invites, and those a Redis failover cut off,
// are finished by the other (or restarted) worker within seconds, through
// mxinvite's own heartbeats and takeover (worker/takeover.go), not after
// asynq's lease recovery (a minute or two). These tests assert outcomes:
// every invite Success, none stored twice at the server, some re-delivered
// by a takeover; how long it took is logged here and measured by
// `make bench` (internal/bench, rows R23).

const (
	takeoverInvites = 200
	takeoverLatency = 300 * time.Millisecond // the identity server's, per invite
	takeoverFinal   = 60                     // final invites before the kill
)

// takeoverFlags are the workers' flags: 10 invites at a time each.
var takeoverFlags = []string{"--concurrency", "10", "--retry-waits", "200ms,400ms", "--timeouts", "5s"}

// TestTakeoverAfterWorkerKill: two workers, SIGKILL one once ~60 invites are
// final; and the only worker killed, a new one started 2 s later.
func TestTakeoverAfterWorkerKill(t *testing.T) {
	skipShort(t)
	t.Run("two-workers", func(t *testing.T) { t.Parallel(); testTakeover(t, false) })
	t.Run("restarted-worker", func(t *testing.T) { t.Parallel(); testTakeover(t, true) })
}

func testTakeover(t *testing.T, restart bool) {
	e := newCampaignEnv(t, redistest.Start(t), simulator.Config{IdentityLatency: takeoverLatency})
	invs := e.enqueue("takeover", takeoverInvites)
	mxinviteBinary(t)
	victim := e.startWorker("worker-1", takeoverFlags...)
	var others []*process
	if !restart {
		others = append(others, e.startWorker("worker-2", takeoverFlags...))
	}
	waitFinal(t, e, "takeover", takeoverFinal)
	victim.kill()
	killedAt := time.Now()
	if restart {
		time.Sleep(2 * time.Second)
		others = append(others, e.startWorker("worker-1-restarted", takeoverFlags...))
	}
	doneAt := waitAllFinal(t, e, "takeover", others)
	for _, p := range others {
		p.terminate(30 * time.Second)
	}
	taken := checkTakeover(t, e, "takeover", invs, true)
	t.Logf("restart=%v: %d invites, last final %.1fs after the SIGKILL; %d re-delivered by a takeover; %s",
		restart, takeoverInvites, doneAt.Sub(killedAt).Seconds(), taken, simSummary(e))
}

// TestTakeoverAfterSentinelFailover: one worker through Sentinel; the
// primary is SIGKILLed mid-campaign and the replica promoted.
func TestTakeoverAfterSentinelFailover(t *testing.T) {
	skipShort(t)
	t.Parallel()
	set := redistest.StartSentinels(t, redistest.SentinelOptions{})
	e := newCampaignEnv(t, set.Primary, simulator.Config{IdentityLatency: takeoverLatency})
	e.url = set.URL()
	conn := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: set.Master, SentinelAddrs: set.Addrs()})
	t.Cleanup(func() { _ = conn.Close() })
	e.connect(conn)
	invs := e.enqueue("failover", takeoverInvites)
	mxinviteBinary(t)
	workers := []*process{e.startWorker("worker-1", takeoverFlags...), e.startWorker("worker-2", takeoverFlags...)}
	waitFinal(t, e, "failover", takeoverFinal)
	set.Primary.Kill()
	killedAt := time.Now()
	set.WaitPrimary(t, set.Replica.Addr, 30*time.Second)
	doneAt := waitAllFinal(t, e, "failover", workers)
	for _, p := range workers {
		p.terminate(30 * time.Second)
	}
	taken := checkTakeover(t, e, "failover", invs, false)
	t.Logf("%d invites, last final %.1fs after the primary's SIGKILL; %d re-delivered by a takeover; %s",
		takeoverInvites, doneAt.Sub(killedAt).Seconds(), taken, simSummary(e))
}

// waitFinal waits until n invites of campaign are final.
func waitFinal(t *testing.T, e *campaignEnv, campaign string, n int) {
	t.Helper()
	waitFor(t, "invites final before the kill", time.Minute, 5*time.Millisecond, func() bool {
		c, ok := e.tryCounts(campaign)
		return ok && c.States[record.StateDone] >= n
	})
	if c := e.counts(campaign); c.States[record.StateDone] >= takeoverInvites-20 {
		t.Fatalf("%d of %d invites final at the kill: too late to prove anything", c.States[record.StateDone], takeoverInvites)
	}
}

// waitAllFinal waits (bounded: asynq's own recovery would end it within
// about two minutes too; what tells a takeover from it is checkTakeover)
// until every invite is final, and returns when that was seen.
func waitAllFinal(t *testing.T, e *campaignEnv, campaign string, workers []*process) time.Time {
	t.Helper()
	var doneAt time.Time
	waitFor(t, "every invite final", 4*time.Minute, 20*time.Millisecond, func() bool {
		c, ok := e.tryCounts(campaign)
		if ok && c.Pending() == 0 && c.States[record.StateDone] == takeoverInvites {
			doneAt = time.Now()
			return true
		}
		for _, p := range workers {
			if !p.running() {
				t.Fatalf("%s exited with invites pending", p.name)
			}
		}
		return false
	})
	return doneAt
}

// checkTakeover asserts the outcome: every invite Success with one result,
// none stored twice at the server (the re-sent ones went with the same
// txnId), and (wantTaken: a worker was killed mid-request) at least one
// re-delivered by a takeover. It returns how many were.
func checkTakeover(t *testing.T, e *campaignEnv, campaign string, invs []tasks.Invite, wantTaken bool) int {
	t.Helper()
	c := e.counts(campaign)
	if c.Enqueued != len(invs) || c.States[record.StateDone] != len(invs) || c.Statuses[matrix.Success.String()] != len(invs) {
		t.Errorf("counts %+v; want all %d done Success", c, len(invs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	taken := 0
	var last record.Result
	defer func() {
		h, _ := e.rdb.HGetAll(ctx, e.prefix+":invite:"+last.Key).Result()
		t.Logf("the last invite to end: %v", h)
	}()
	for _, r := range e.results(campaign) {
		if r.FinishedAt.After(last.FinishedAt) {
			last = r
		}
		if r.StatusCode != matrix.Success {
			t.Errorf("%s: %s (%s)", r.Address, r.Status, r.Error)
		}
		if strings.Contains(r.TaskID, ":r") {
			taken++
			n, err := e.rdb.HGet(ctx, e.prefix+":invite:"+r.Key, "takeovers").Int()
			if err != nil || n < 1 {
				t.Errorf("%s: task %s but takeovers %d (%v)", r.Address, r.TaskID, n, err)
			}
		}
	}
	st := e.sim.Stats()
	if st.Duplicates != 0 || st.ExtraEmails != 0 {
		t.Errorf("the server stored %d invites twice (%d extra emails); want 0", st.Duplicates, st.ExtraEmails)
	}
	if st.Accepted-st.Duplicates != int64(len(invs)) {
		t.Errorf("the server accepted %d distinct invites, want %d", st.Accepted-st.Duplicates, len(invs))
	}
	if taken == 0 && wantTaken {
		t.Errorf("no invite was re-delivered by a takeover: the killed worker's invites waited for asynq")
	}
	return taken
}

// simSummary is what the server saw, in one line.
func simSummary(e *campaignEnv) string {
	st := e.sim.Stats()
	return fmt.Sprintf("server: %d invite requests, %d accepted, %d stored twice, %d answered from the txnId cache",
		st.InviteRequests, st.Accepted, st.Duplicates, st.TxnCacheHits)
}
