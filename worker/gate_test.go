package worker

import (
	"context"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

func newGate(t *testing.T) (*gate, *env) {
	t.Helper()
	r := redistest.Start(t)
	e := &env{t: t, redis: r, rdb: r.Client(t)}
	return &gate{rdb: e.rdb, k: keys{prefix: redistest.Unique(t, "mx")}}, e
}

func TestGateSlowStartThenBlockAfter429(t *testing.T) {
	g, e := newGate(t)
	ctx := context.Background()
	e.rdb.HSet(ctx, g.k.prefix+":invite:k", "campaign", "c")
	first, err := g.acquire(ctx, "s", "c", "k", time.Minute)
	if err != nil || !first.reserved || first.wait != 0 {
		t.Fatalf("first slot %+v (%v); want reserved now", first, err)
	}
	second, _ := g.acquire(ctx, "s", "c", "k", time.Minute)
	if !second.reserved || second.wait <= 0 || second.wait > startInterval {
		t.Fatalf("second slot %+v; want reserved one start interval (%s) later", second, startInterval)
	}

	if err := g.limited(ctx, "s", 300*time.Millisecond, second.at); err != nil {
		t.Fatal(err)
	}
	// The slot reserved before the 429 is held back at the last moment.
	e.rdb.HSet(ctx, g.k.prefix+":invite:k", "requests", 0)
	if wait, _, err := g.send(ctx, "s", "c", "k"); err != nil || wait < 200*time.Millisecond {
		t.Fatalf("send after a 429: wait %s (%v); want about 300ms", wait, err)
	}
	if n, _ := e.rdb.HGet(ctx, g.k.prefix+":invite:k", "requests").Int(); n != 0 {
		t.Fatalf("a held-back request was counted as sent (%d)", n)
	}
	// The next slot is after the advised time; the one after that would be
	// two intervals ahead: nothing is reserved that far, come back later.
	next, _ := g.acquire(ctx, "s", "c", "k", time.Minute)
	if !next.reserved || next.wait < 200*time.Millisecond {
		t.Fatalf("slot after a 429: %+v; want reserved after ~300ms", next)
	}
	if later, _ := g.acquire(ctx, "s", "c", "k", time.Minute); later.reserved || !later.later {
		t.Fatalf("second slot after a 429: %+v; want 'ask again later'", later)
	}
	// The pace is the advice now (the first 429 ends the slow start).
	if iv, _ := e.rdb.HGet(ctx, g.k.gate("s"), "interval").Int(); iv != 300 {
		t.Fatalf("interval %d ms after a 300 ms advice", iv)
	}
	// Limited again although reserved at that pace: the pace slows by a tenth.
	if err := g.limited(ctx, "s", 10*time.Millisecond, time.Now().Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if iv, _ := e.rdb.HGet(ctx, g.k.gate("s"), "interval").Int(); iv != 330 {
		t.Fatalf("interval %d ms after a paced 429; want 330", iv)
	}
}

// Many workers against a token bucket: the gate keeps 429s to a few and
// every invite succeeds. The bound is loose (a 3 s run is mostly start-up,
// and CI machines are loaded); it catches a gate that lets the pace collapse
// or never slows down. The rates themselves are measured by make bench (P3).
func TestGateKeepsRateLimitedShareLow(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 100, Burst: 10}},
		func(c *Config) { c.Concurrency = 40 })
	for i := range 300 {
		e.enqueue(e.inviteTo(simulator.DefaultRoomID, "m"+string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.org"), EnqueueOptions{})
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
