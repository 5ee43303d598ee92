package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/testkit"
)

// TestCrashSafety runs 2,000 invites through three worker processes, kills
// one with SIGKILL once the homeserver has accepted about 500, starts a
// replacement, and checks that every invite ends persisted as Success and
// that the homeserver saw no more duplicates than there were invites in
// flight in the killed process.
//
// asynq v0.26 gives a dead worker's active tasks back only once their lease
// (30 s, extended every 5 s by the heartbeat) has been expired for 30 s, and
// its recoverer looks every minute (and once at start-up), so the run lasts
// about a minute after the kill: that is asynq's recovery time, not ours.
//
// Two variants: the default idempotent PUT /invite/{txnId} form, where a
// re-sent invite is answered from the homeserver's transaction cache (no
// duplicate at all), and --no-txn-id (plain POST), where an invite the
// server processed but whose answer the dead worker never recorded is sent
// again after the re-check: the bound below is what limits those.
func TestCrashSafety(t *testing.T) {
	skipShort(t)
	t.Parallel()
	forEachSendMode(t, testCrash)
}

func testCrash(t *testing.T, noTxn bool) {
	const (
		n           = 2000
		concurrency = 10
		killAfter   = 500 // accepted invites
	)
	e := newCampaignEnv(t, redistest.Start(t), simulator.Config{
		Faults: simulator.Faults{Latency: 20 * time.Millisecond, Jitter: 20 * time.Millisecond},
	})
	invs := e.enqueue("crash", n)
	mxinviteBinary(t) // build before the clock starts
	flags := []string{"--concurrency", strconv.Itoa(concurrency), "--retry-waits", "100ms,200ms",
		"--timeouts", "5s", "--max-retries", "3", "--until-idle"}
	if noTxn {
		flags = append(flags, "--no-txn-id")
	}

	start := time.Now()
	victim := e.startWorker("worker-1", flags...)
	survivors := []*process{e.startWorker("worker-2", flags...), e.startWorker("worker-3", flags...)}
	waitFor(t, "the simulator to accept "+strconv.Itoa(killAfter)+" invites", time.Minute, 2*time.Millisecond,
		func() bool { return e.sim.Stats().Accepted >= killAfter })

	victim.kill() // SIGKILL, and wait until it is gone
	killedAt := time.Now()
	acceptedAtKill := e.sim.Stats().Accepted
	// Right after the kill, asynq still lists the dead worker's tasks as
	// active (their leases have not expired), together with those the
	// survivors are running: an upper bound of what was in flight in the
	// killed process.
	activeAtKill := testkit.QueueInfo(e.inspector, e.queue).Active
	if acceptedAtKill >= n-concurrency*3 {
		t.Fatalf("the kill came after %d of %d invites were accepted: too late to prove anything", acceptedAtKill, n)
	}
	survivors = append(survivors, e.startWorker("worker-4-replacement", flags...))

	// Once every lease of the dead worker has expired (at most 30 s after
	// its last heartbeat, so before killedAt+30s) and before asynq can
	// recover them (not before 30 s later), the tasks it held are exactly
	// the active ones asynq marks orphaned: the killed process's in-flight
	// count.
	time.Sleep(time.Until(killedAt.Add(35 * time.Second)))
	active := testkit.Tasks(e.inspector, e.queue, e.inspector.ListActiveTasks)
	orphaned := 0
	for _, ti := range active {
		if ti.IsOrphaned {
			orphaned++
		}
	}

	// Wait (at most 4 minutes after the kill) until every invite is final.
	var doneAt time.Time
	waitFor(t, "every invite to be persisted after the kill", 4*time.Minute-time.Since(killedAt), 250*time.Millisecond, func() bool {
		c, ok := e.tryCounts("crash")
		if ok && c.Pending() == 0 && c.States[record.StateDone] == n {
			doneAt = time.Now()
			return true
		}
		for _, p := range survivors {
			if p.running() {
				return false
			}
		}
		t.Fatalf("every worker exited with invites still pending: %+v", c)
		return false
	})
	for _, p := range survivors {
		if code, ok := p.wait(30 * time.Second); !ok || code != 0 {
			t.Errorf("%s: exit code %d (exited %v), want 0 once the queue is idle", p.name, code, ok)
		}
	}

	c := e.checkAllSucceeded("crash", invs)
	st := e.sim.Stats()
	variant := "PUT txnId"
	if noTxn {
		variant = "POST --no-txn-id"
	}
	t.Logf("crash safety (%s): %d invites, 3 worker processes x concurrency %d; SIGKILL of worker-1 %.1fs into the run, "+
		"after %d accepted; in flight at the kill: asynq active %d (upper bound, all workers), orphaned %d (the killed worker's), "+
		"mid-request %d (possible_duplicate records); simulator duplicates %d, extra emails %d, txn cache hits %d; "+
		"all %d persisted %.1fs after the kill (asynq lease recovery), run %.1fs in all",
		variant, n, concurrency, killedAt.Sub(start).Seconds(), acceptedAtKill, activeAtKill, orphaned,
		c.PossibleDuplicates, st.Duplicates, st.ExtraEmails, st.TxnCacheHits,
		n, doneAt.Sub(killedAt).Seconds(), doneAt.Sub(start).Seconds())

	// The killed worker had work in flight, or the test proves nothing.
	// (A lane's server takes one task more than the sender's slots: it
	// waits for a slot, and never sent anything.)
	if orphaned < 1 || orphaned > concurrency+1 || orphaned > activeAtKill {
		t.Errorf("orphaned tasks %d; want 1..%d and at most the %d active at the kill", orphaned, concurrency+1, activeAtKill)
	}
	// Only an invite whose request was on the wire when its worker died can
	// have reached the homeserver twice: the begin script turns its
	// "inflight" mark into an ambiguous attempt (re-check, then resend), and
	// its success is flagged possible_duplicate. So duplicates <= those
	// invites <= the killed worker's in-flight tasks.
	if st.Duplicates > int64(c.PossibleDuplicates) || st.ExtraEmails > int64(c.PossibleDuplicates) ||
		c.PossibleDuplicates > orphaned {
		t.Errorf("duplicates %d, extra emails %d, possible_duplicate records %d, orphaned tasks %d: "+
			"want duplicates and extra emails <= possible duplicates <= orphaned",
			st.Duplicates, st.ExtraEmails, c.PossibleDuplicates, orphaned)
	}
	if st.Accepted-st.Duplicates != n {
		t.Errorf("the simulator accepted %d invites with %d duplicates; want %d distinct", st.Accepted, st.Duplicates, n)
	}
	// With PUT, the resend carries the same txnId, and the homeserver
	// (Synapse's transaction cache, here the simulator's) replays the
	// stored success without calling the identity server: no duplicate.
	if !noTxn && (st.Duplicates != 0 || st.ExtraEmails != 0) {
		t.Errorf("with PUT txnId: %d duplicates, %d extra emails; want 0", st.Duplicates, st.ExtraEmails)
	}
}
