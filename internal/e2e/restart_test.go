package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// TestRedisRestartMidCampaign stops Redis (AOF on, fsync always) for about a
// second while an in-process worker is sending a 500-invite campaign, starts
// it again on the same port and data directory, and checks that the worker
// reconnects by itself and that nothing is lost or sent twice.
//
// The plain POST variant (--no-txn-id; every server but Synapse) is the
// sharp one: there the homeserver cannot recognise a resend, so an invite
// whose 200 arrived while Redis was down must keep its result until Redis is
// back (worker: finalWriteWindow) instead of being delivered again, re-checked
// and sent a second time, as it was before.
func TestRedisRestartMidCampaign(t *testing.T) {
	skipShort(t)
	t.Parallel()
	forEachSendMode(t, testRedisRestart)
}

func testRedisRestart(t *testing.T, noTxn bool) {
	const (
		n             = 500
		restartAfter  = 100 // accepted invites
		redisDownTime = time.Second
	)
	opts := redistest.Options{AppendOnly: true}
	r := redistest.StartOwned(t, opts)
	e := newCampaignEnv(t, r, simulator.Config{
		Faults: simulator.Faults{Latency: 20 * time.Millisecond, Jitter: 20 * time.Millisecond},
	})
	invs := e.enqueue("restart", n)

	logPath := filepath.Join(e.logDir, "worker.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- in-process worker log (tail) ---\n%s", tail(b, 40))
		}
	})
	logger := zerolog.New(logFile).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	w, err := worker.New(worker.Config{
		Redis: asynq.RedisClientOpt{Addr: r.Addr},
		Profiles: []worker.Profile{{Name: tasks.DefaultSender, HomeserverURL: e.hsURL, AccessToken: e.token,
			IDServer: e.idServer, IDAccessToken: e.idToken}},
		Policy: matrix.RetryPolicy{Timeouts: []time.Duration{5 * time.Second},
			Waits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, MaxRetries: 3},
		Concurrency:    10,
		Queue:          e.queue,
		KeyPrefix:      e.prefix,
		IdentityScheme: "http",
		NoTxnID:        noTxn,
		Logger:         &logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	start := time.Now()
	runErr := make(chan error, 1)
	go func() { runErr <- w.Run(ctx, true) }()

	waitFor(t, "100 accepted invites", time.Minute, 2*time.Millisecond,
		func() bool { return e.sim.Stats().Accepted >= restartAfter })
	stoppedAt := time.Now()
	acceptedAtStop := e.sim.Stats().Accepted
	r.Stop()
	// Redis really is gone (or the test would prove nothing).
	probe := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: time.Second})
	perr := probe.Ping(context.Background()).Err()
	_ = probe.Close()
	if perr == nil {
		t.Fatal("Redis still answers after Stop")
	}
	time.Sleep(redisDownTime)
	r.Restart(t) // same port and data directory; returns once it answers PING
	restartedAt := time.Now()
	acceptedAtRestart := e.sim.Stats().Accepted
	if acceptedAtRestart >= n {
		t.Fatalf("all %d invites were accepted before Redis came back: the restart was not mid-campaign", n)
	}
	// How long until the worker sends again.
	resumed := waitFor(t, "an invite accepted after the restart", time.Minute, 5*time.Millisecond,
		func() bool { return e.sim.Stats().Accepted > acceptedAtRestart })

	// Usually done within seconds. But a delivery whose first Redis write
	// (begin, sending) failed while Redis was down returns an error that
	// asynq cannot record either, and asynq v0.26 then retries that record
	// with a context it has already cancelled (processor.retry hands its
	// syncer a ctx it cancels on return): the task stays active until its
	// lease expires and a recoverer tick (every minute) picks it up, up to
	// about two minutes later. Slow, but nothing is lost or sent twice.
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("worker Run: %v", err)
		}
	case <-time.After(3 * time.Minute):
		t.Fatal("the worker did not finish the campaign within 3 minutes of the restart")
	}
	if ctx.Err() != nil {
		t.Fatal("the worker stopped on its deadline, not because the queue was idle")
	}
	finishedAt := time.Now()

	c := e.checkAllSucceeded("restart", invs)
	st := e.sim.Stats()
	variant := "PUT txnId"
	if noTxn {
		variant = "POST no-txn-id"
	}
	t.Logf("redis restart (%s): %d invites, in-process worker x concurrency 10; Redis (AOF, fsync always) stopped %.1fs into the run "+
		"after %d accepted, down %.2fs (stop + %s pause + start), %d accepted while it was down; first acceptance %.0fms "+
		"after it answered again; campaign finished %.1fs after the restart; possible_duplicate records %d, "+
		"simulator duplicates %d, extra emails %d, txn cache hits %d, requests %d",
		variant, n, stoppedAt.Sub(start).Seconds(), acceptedAtStop, restartedAt.Sub(stoppedAt).Seconds(), redisDownTime,
		acceptedAtRestart-acceptedAtStop, float64(resumed.Microseconds())/1000, finishedAt.Sub(restartedAt).Seconds(),
		c.PossibleDuplicates, st.Duplicates, st.ExtraEmails, st.TxnCacheHits, c.Requests)
	// An invite whose answer arrived while Redis was down keeps trying to
	// record its result until Redis is back, so it is not sent again; one
	// delivered again anyway (its begin or sending write failed) had no
	// answer from the homeserver yet, or was re-checked and, with PUT, is
	// replayed from the transaction cache. Either way: no second invite.
	if st.Duplicates != 0 || st.ExtraEmails != 0 || st.Accepted != n {
		t.Errorf("simulator: %d accepted, %d duplicates, %d extra emails; want %d, 0, 0",
			st.Accepted, st.Duplicates, st.ExtraEmails, n)
	}
}
