package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestLongCampaignPaceAndETA is issue 11's long campaign, sped up: Synapse's
// code default rc_third_party_invite (5, then one per 400 s) scaled 1000×
// (5, then 2.5/s), two worker processes sharing the sender's gate. Every
// invite ends Success, none goes before its advised time, none twice; the
// share of 429s, the achieved rate and the ETA read at a quarter of the way
// against the real remaining time are printed (make bench checks them
// against their goals, at the issue's own scale).
func TestLongCampaignPaceAndETA(t *testing.T) {
	skipShort(t)
	t.Parallel()
	const n = 60
	rl := simulator.SynapseDefaultRateLimit(1000)
	// A request already on its way when a 429 is issued cannot know of it:
	// the simulator excuses those arriving within EarlySlack after the
	// issue (and counts them: CrossedRequests, logged). The worker's
	// reaction time (answer read, gate written in Redis) grows with the
	// machine's load, and this test runs beside the rest of the suite with
	// -race: alone, the crossings arrive 1-2 ms after the issue; in a full
	// CI run a 25 ms slack (at 5/s) once let 7 through. make bench keeps
	// the strict count (P3c) on a quiet machine. A gate that ignored the
	// advice would still send most of its requests inside the advised
	// time (up to 400 ms here), past the slack.
	rl.EarlySlack = 100 * time.Millisecond
	e := newCampaignEnv(t, redistest.Start(t), simulator.Config{RateLimit: rl})
	invs := e.enqueue("long", n)
	mxinviteBinary(t)
	flags := []string{"--concurrency", "10", "--until-idle"}
	start := time.Now()
	workers := []*process{e.startWorker("worker-1", flags...), e.startWorker("worker-2", flags...)}

	var eta float64
	var quarterAt time.Time
	waitFor(t, "a quarter of the invites to finish", 2*time.Minute, 20*time.Millisecond, func() bool {
		c, ok := e.tryCounts("long")
		if !ok || c.States["done"] < n/4 {
			return false
		}
		o, err := e.store.Outlook(context.Background(), c)
		if err != nil || o.ETASeconds == nil {
			return false
		}
		eta, quarterAt = *o.ETASeconds, time.Now()
		return true
	})
	for _, p := range workers {
		if code, ok := p.wait(3 * time.Minute); !ok || code != 0 {
			p.dump()
			t.Fatalf("%s: exit %d (finished %v), want 0", p.name, code, ok)
		}
	}
	end := time.Now()
	e.checkAllSucceeded("long", invs)
	st := e.sim.Stats()
	if st.EarlyRequests != 0 || st.Duplicates != 0 {
		t.Fatalf("%d requests before their advised time, %d invitees invited twice; want 0 and 0", st.EarlyRequests, st.Duplicates)
	}
	allowed := float64(rl.Burst) + rl.PerSecond*end.Sub(start).Seconds()
	remaining := end.Sub(quarterAt).Seconds()
	t.Logf("%d invites, 2 workers, limit burst %d then %s/s: %d requests, %.1f%% answered 429, %d crossed a 429 (within the slack); "+
		"achieved ÷ allowed %.2f; ETA at a quarter %.1fs, real remaining %.1fs (ratio %.2f)",
		n, rl.Burst, strconv.FormatFloat(rl.PerSecond, 'f', -1, 64), st.InviteRequests,
		100*float64(st.RateLimited)/float64(st.InviteRequests), st.CrossedRequests, float64(n)/allowed, eta, remaining, eta/remaining)
}
