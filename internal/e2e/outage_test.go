package e2e

import (
	"strconv"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestHomeserverOutage takes the homeserver down for two seconds in the
// middle of a campaign sent by two worker processes, then brings it back.
// With a retry schedule longer than the outage (waits 500ms, 1s, 2s…, six
// retries: 9.5 s of waiting), no invite may end as a failure. Two outage
// styles: a proxy answering 503 for the missing upstream, and a crashed
// server dropping connections without an answer.
func TestHomeserverOutage(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for _, mode := range []simulator.DownMode{simulator.DownUnavailable, simulator.DownClose} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			testOutage(t, mode)
		})
	}
}

func testOutage(t *testing.T, mode simulator.DownMode) {
	const (
		n           = 400
		downAfter   = 100 // accepted invites
		outage      = 2 * time.Second
		concurrency = 10
	)
	e := newCampaignEnv(t, redistest.Start(t), simulator.Config{
		DownMode: mode,
		Faults:   simulator.Faults{Latency: 10 * time.Millisecond, Jitter: 10 * time.Millisecond},
	})
	invs := e.enqueue("outage", n)
	mxinviteBinary(t)
	flags := []string{"--concurrency", strconv.Itoa(concurrency), "--retry-waits", "500ms,1s,2s",
		"--timeouts", "5s", "--max-retries", "6", "--until-idle"}
	start := time.Now()
	workers := []*process{e.startWorker("worker-1", flags...), e.startWorker("worker-2", flags...)}

	waitFor(t, "the simulator to accept "+strconv.Itoa(downAfter)+" invites", time.Minute, 2*time.Millisecond,
		func() bool { return e.sim.Stats().Accepted >= downAfter })
	e.sim.SetDown(true)
	downAt := time.Now()
	acceptedAtDown := e.sim.Stats().Accepted
	time.Sleep(outage)
	e.sim.SetDown(false)
	upAt := time.Now()
	st := e.sim.Stats()
	if st.Accepted >= n {
		t.Fatalf("all %d invites were accepted before the outage ended: it was not mid-campaign", n)
	}
	refused := st.Outages

	for _, p := range workers {
		code, ok := p.wait(2 * time.Minute)
		if !ok || code != 0 {
			t.Fatalf("%s: exit code %d (exited %v), want 0 once the queue is idle", p.name, code, ok)
		}
	}
	doneAt := time.Now()

	c := e.checkAllSucceeded("outage", invs)
	st = e.sim.Stats()
	maxAttempts, retried := 0, 0
	for _, r := range e.results("outage") {
		maxAttempts = max(maxAttempts, r.Attempts)
		if r.Attempts > 1 {
			retried++
		}
	}
	t.Logf("homeserver outage (%s): %d invites, 2 worker processes x concurrency %d, waits 500ms,1s,2s, 6 retries; "+
		"down %.1fs into the run after %d accepted, for %.2fs: %d requests refused; %d invites retried, at most %d attempts; "+
		"all Success %.1fs after it came back; simulator duplicates %d, extra emails %d, possible_duplicate records %d",
		mode, n, concurrency, downAt.Sub(start).Seconds(), acceptedAtDown, upAt.Sub(downAt).Seconds(), refused,
		retried, maxAttempts, doneAt.Sub(upAt).Seconds(), st.Duplicates, st.ExtraEmails, c.PossibleDuplicates)

	// The outage was felt (or the test proves nothing).
	if refused == 0 || retried == 0 || c.Requests <= n {
		t.Errorf("%d requests refused during the outage, %d invites retried, %d requests for %d invites: the outage was not felt",
			refused, retried, c.Requests, n)
	}
	if maxAttempts > 7 {
		t.Errorf("an invite took %d attempts; the policy allows 7", maxAttempts)
	}
	// A down server did nothing with the requests it refused, and every
	// resend after a dropped connection carries the same txnId: no
	// invitee may be invited or emailed twice.
	if st.Duplicates != 0 || st.ExtraEmails != 0 {
		t.Errorf("simulator: %d duplicates, %d extra emails; want 0", st.Duplicates, st.ExtraEmails)
	}
	// A 503 says the request was not processed: nothing was possibly
	// duplicated (a dropped connection says nothing, so those may be).
	if mode == simulator.DownUnavailable && c.PossibleDuplicates != 0 {
		t.Errorf("%d invites flagged possible_duplicate after 503s only; want 0", c.PossibleDuplicates)
	}
}
