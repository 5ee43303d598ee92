package worker

import (
	"context"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// Many workers against a token bucket: the gate keeps 429s to a few and
// every invite succeeds. The bound is loose (a 3 s run is mostly start-up,
// and CI machines are loaded); it catches a gate that lets the pace collapse
// or never slows down. The rates themselves are measured by make bench (P3).
func TestGateKeepsRateLimitedShareLow(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 100, Burst: 10}},
		func(c *Config) { c.Concurrency = 40 })
	for i := range 300 {
		e.enqueue(e.inviteTo(simulator.DefaultRoomID, "m"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.org"), producer.Options{})
	}
	e.runUntilIdle(60 * time.Second)
	c, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	st := sim.Stats()
	if c.Statuses[matrix.Success.String()] != 300 || st.Accepted != 300 {
		t.Fatalf("counts %+v, accepted %d", c, st.Accepted)
	}
	if st.RateLimited*5 > st.InviteRequests {
		t.Fatalf("%d of %d requests answered 429; want under 20%%", st.RateLimited, st.InviteRequests)
	}
	t.Logf("%d requests, %d answered 429, %d early", st.InviteRequests, st.RateLimited, st.EarlyRequests)
}
