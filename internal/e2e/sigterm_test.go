package e2e

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestSigtermMidRun sends SIGTERM to a worker process in the middle of a
// campaign, as a deployment would: it must exit 0 promptly (waiting invites
// go back to the queue, in-flight requests finish), and a replacement must
// bring every invite to a persisted result, each sent once.
func TestSigtermMidRun(t *testing.T) {
	skipShort(t)
	t.Parallel()
	const n = 300
	e := newCampaignEnv(t, redistest.Start(t), simulator.Config{
		Faults: simulator.Faults{Latency: 30 * time.Millisecond, Jitter: 20 * time.Millisecond},
		// Some retries waiting in-process at the moment of the signal: five
		// addresses answered 502 once (fifty would be a sick server, which
		// the sender back-off slows down for; see worker/backoff.go).
		Rules: []simulator.Rule{{Pattern: "user0000[0-4]@e2e.example", Status: 502, ErrCode: "M_UNKNOWN", Times: 1}},
	})
	invs := e.enqueue("sigterm", n)
	mxinviteBinary(t)
	flags := []string{"--concurrency", "10", "--retry-waits", "2s", "--timeouts", "5s", "--shutdown-timeout", "10s"}
	w := e.startWorker("worker-1", flags...)
	waitFor(t, "the simulator to accept 60 invites", time.Minute, 2*time.Millisecond,
		func() bool { return e.sim.Stats().Accepted >= 60 })
	stopAt := time.Now()
	if code := w.terminate(15 * time.Second); code != 0 {
		w.dump()
		t.Fatalf("worker exited %d after SIGTERM, want 0", code)
	}
	stopped := time.Since(stopAt)
	accepted := e.sim.Stats().Accepted
	if accepted >= n {
		t.Fatalf("all %d invites were done before SIGTERM: the test proves nothing", n)
	}
	r := e.startWorker("worker-2", append(flags, "--until-idle")...)
	if code, ok := r.wait(2 * time.Minute); !ok || code != 0 {
		r.dump()
		t.Fatalf("replacement worker exited %d (finished %v)", code, ok)
	}
	e.checkAllSucceeded("sigterm", invs)
	if st := e.sim.Stats(); st.Duplicates != 0 {
		t.Errorf("%d invitees invited twice", st.Duplicates)
	}
	t.Logf("SIGTERM with %d of %d accepted; the worker exited in %s; the replacement finished the rest", accepted, n, stopped.Round(time.Millisecond))
}
