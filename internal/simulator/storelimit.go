package simulator

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// StoreLimit is the identity server's limit on store-invites (emails) per
// sender MXID, as Sydent has it: Burst at once, then one more every
// Interval. Synapse turns Sydent's refusal into 500 M_UNKNOWN "Internal
// server error" for the inviting client, and no email is sent.
type StoreLimit struct {
	// Burst is how many stores a sender may make at once. 0 (the default)
	// turns the limit off.
	Burst int
	// Interval is the time after which a sender may store one more. Must
	// be > 0 when Burst > 0.
	Interval time.Duration
}

// SydentStoreLimit returns Sydent's email limit: 5, then one per 300 s.
func SydentStoreLimit() StoreLimit { return StoreLimit{Burst: 5, Interval: 300 * time.Second} }

func (sl StoreLimit) validate(field string) []error {
	var errs []error
	if sl.Burst < 0 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Burst: negative (%d)", field, sl.Burst))
	}
	if sl.Interval < 0 || (sl.Burst > 0 && sl.Interval == 0) {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Interval: must be > 0 when Burst > 0, got %v", field, sl.Interval))
	}
	return errs
}

// storeLimiter is a token bucket per sender on store-invites.
type storeLimiter struct {
	mu      sync.Mutex
	cfg     StoreLimit
	buckets map[string]*bucket
}

func newStoreLimiter(cfg StoreLimit) *storeLimiter {
	sl := &storeLimiter{}
	sl.set(cfg)
	return sl
}

// set replaces the limit; every sender starts with a full burst.
func (sl *storeLimiter) set(cfg StoreLimit) {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	sl.cfg = cfg
	sl.buckets = map[string]*bucket{}
}

// reset refills every sender's burst.
func (sl *storeLimiter) reset() { sl.set(sl.current()) }

func (sl *storeLimiter) current() StoreLimit {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	return sl.cfg
}

// take uses one store of sender at now; false means the sender is over
// the limit (and nothing was used).
func (sl *storeLimiter) take(sender string, now time.Time) bool {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	c := sl.cfg
	if c.Burst <= 0 {
		return true
	}
	b := sl.buckets[sender]
	if b == nil {
		b = &bucket{tokens: float64(c.Burst), last: now}
		sl.buckets[sender] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = math.Min(float64(c.Burst), b.tokens+float64(elapsed)/float64(c.Interval))
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
