package matrix

import (
	"strconv"
	"testing"
	"time"
)

// TestResolverSweepDropsStaleAnswersAndStaysBounded: stale answers stay
// below minSweep and go once the cache reaches it; fresh answers are all
// kept, and the cache holds at most twice as many entries as fresh answers.
func TestResolverSweepDropsStaleAnswersAndStaysBounded(t *testing.T) {
	r := NewResolver(time.Minute, 1)
	now := time.Now()
	add := func(n int, at time.Time, tag string) {
		for i := range n {
			r.cache[lookupKey{"id.example", ThreePID{Medium: "email", Address: tag + strconv.Itoa(i) + "@example.org"}}] = lookupEntry{at: at}
			r.sweep(now)
		}
	}
	add(minSweep-1, now.Add(-time.Hour), "stale")
	if len(r.cache) != minSweep-1 {
		t.Fatalf("swept below minSweep: %d entries", len(r.cache))
	}
	const fresh = 3 * minSweep
	add(fresh, now, "fresh")
	stale := 0
	for _, e := range r.cache {
		if now.Sub(e.at) >= r.ttl {
			stale++
		}
	}
	if got := len(r.cache); got-stale != fresh || got > 2*fresh || stale > 0 {
		t.Fatalf("%d entries (%d stale) for %d fresh answers: want every fresh one, no stale one, at most twice as many", got, stale, fresh)
	}
}
