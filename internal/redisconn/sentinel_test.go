package redisconn

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/worker"
)

// TestCampaignCarriesOnThroughASentinelFailover kills the primary with
// SIGKILL mid-campaign, while a producer is still enqueueing and a worker
// sending; the Sentinel promotes the replica and both carry on.
//
// What replication guarantees here, and so what is asserted: every invite
// ends Success, and the homeserver accepted each exactly once. A write the
// primary acknowledged but had not yet sent to the replica can be lost in
// an asynchronous failover; each such loss is repaired without a second
// invite: a lost task is re-enqueued by running the same enqueue again (the
// producer's retry loop below, and the final re-run, are that), a lost final
// result leaves the record "in flight" and asynq's task active, which asynq
// recovers after its lease; the next delivery re-checks and resends with the
// same transaction ID, which the homeserver (Synapse, the simulator)
// answers from its cache. The requests the homeserver saw may therefore
// exceed the invites; they are logged, not asserted.
func TestCampaignCarriesOnThroughASentinelFailover(t *testing.T) {
	set := redistest.StartSentinels(t, redistest.SentinelOptions{})
	opt, conn, err := Connect(context.Background(), Options{URL: set.URL()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n, firstBatch = 300, 150
	c := newCampaign(t, opt, n, simulator.Config{Faults: simulator.Faults{Latency: 30 * time.Millisecond}})
	if err := c.enqueue(conn, 0, firstBatch); err != nil {
		t.Fatal(err)
	}
	w, err := worker.New(c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Shutdown()

	// The producer goes on enqueueing, 10 at a time, retrying a batch that
	// fails (as re-running an import does) for at most a minute each. Half
	// its batches go before the kill, half from the moment of the kill, when
	// go-redis's own retries usually ride out the failover.
	var wg sync.WaitGroup
	var enqueueErr error
	failures := 0
	killed := make(chan struct{})
	wg.Go(func() {
		for from := firstBatch; from < n; from += 10 {
			if from == firstBatch+(n-firstBatch)/2 {
				<-killed
			}
			deadline := time.Now().Add(time.Minute)
			for {
				err := c.enqueue(conn, from, from+10)
				if err == nil {
					break
				}
				failures++
				if time.Now().After(deadline) {
					enqueueErr = err
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	})

	waitUntil(t, 60*time.Second, "60 invites accepted before the kill", func() bool { return c.sim.Stats().Accepted >= 60 })
	acceptedAtKill := c.sim.Stats().Accepted
	set.Primary.Kill()
	close(killed)
	set.WaitPrimary(t, set.Replica.Addr, 30*time.Second)
	wg.Wait()
	if enqueueErr != nil {
		t.Fatalf("the producer did not carry on after the failover: %v", enqueueErr)
	}

	if acceptedAtKill >= n {
		t.Fatalf("the campaign was over (%d accepted) before the primary was killed: the test proves nothing", acceptedAtKill)
	}
	// The operator's repair after a failover: the same import again. It
	// enqueues only invites whose task a lost write took away.
	if err := c.enqueue(conn, 0, n); err != nil {
		t.Fatal(err)
	}
	store := rdb.New(conn, rdb.Options{Prefix: ""})
	waitUntil(t, 150*time.Second, "every invite final", func() bool {
		counts, err := store.Counts(context.Background(), "prod")
		return err == nil && counts.States[record.StateDone] == n
	})
	c.wantAllSucceededOnce(conn)
	st := c.sim.Stats()
	t.Logf("%d invites, %d accepted at the kill, %d enqueue batches retried, %d invite requests seen by the homeserver",
		n, acceptedAtKill, failures, st.InviteRequests)
}

// waitUntil polls cond every 50 ms, failing the test after limit.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
