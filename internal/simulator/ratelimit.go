package simulator

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// RateLimitStyle is the shape of a 429 answer.
type RateLimitStyle string

// The 429 styles met in the wild.
const (
	// StyleSynapse sends M_LIMIT_EXCEEDED with retry_after_ms and a
	// Retry-After header (seconds, rounded up).
	StyleSynapse RateLimitStyle = "synapse"
	// StyleDendrite sends M_LIMIT_EXCEEDED with retry_after_ms only.
	StyleDendrite RateLimitStyle = "dendrite"
	// StyleBare sends a plain-text 429 with no advice at all, like a
	// reverse proxy's limiter.
	StyleBare RateLimitStyle = "bare"
)

// Synapse's code default for rc_third_party_invite (synapse/config/
// ratelimiting.py since 1.73; its docs still say 0.2/s, burst 10), and
// the pause before it answers a limited request.
const (
	SynapseDefaultBurst     = 5
	SynapseDefaultPerSecond = 0.0025 // one every 400 s, about 216 a day
	SynapseRateLimitPause   = 500 * time.Millisecond
)

// SynapseDefaultRateLimit returns Synapse's code default limit sped up
// scale times (scale 1 is the real one; 1000 gives burst 5, then 2.5/s,
// and a 0.5 ms pause), in StyleSynapse.
func SynapseDefaultRateLimit(scale float64) RateLimit {
	return RateLimit{PerSecond: SynapseDefaultPerSecond * scale, Burst: SynapseDefaultBurst, Style: StyleSynapse,
		Pause: time.Duration(float64(SynapseRateLimitPause) / scale)}
}

// RateLimit is a token bucket per sender on 3PID invites, like Synapse's
// rc_third_party_invite (code default: [SynapseDefaultRateLimit](1)).
type RateLimit struct {
	// PerSecond is the refill rate in invites per second. Must be > 0
	// when Burst > 0.
	PerSecond float64
	// Burst is the bucket size. 0 (the default) turns the limit off.
	Burst int
	// Style is the shape of the 429 answers. Default StyleSynapse.
	Style RateLimitStyle
	// EarlySlack excuses requests that arrive within EarlySlack after a
	// 429 was issued: with concurrent requests in flight, a request may
	// cross the 429 on the wire and is not the client's fault. Default 0:
	// strict, right for sequential clients.
	EarlySlack time.Duration
	// Pause delays each 429 answer, as Synapse pauses 0.5 s before
	// refusing (SynapseRateLimitPause). Default 0.
	Pause time.Duration
}

func (rl RateLimit) withDefaults() RateLimit {
	if rl.Style == "" {
		rl.Style = StyleSynapse
	}
	return rl
}

func (rl RateLimit) validate(field string) []error {
	var errs []error
	if math.IsNaN(rl.PerSecond) || math.IsInf(rl.PerSecond, 0) || rl.PerSecond < 0 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.PerSecond: %v is not a rate >= 0", field, rl.PerSecond))
	}
	if rl.EarlySlack < 0 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.EarlySlack: negative (%v)", field, rl.EarlySlack))
	}
	if rl.Pause < 0 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Pause: negative (%v)", field, rl.Pause))
	}
	if rl.Burst < 0 {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Burst: negative (%d)", field, rl.Burst))
	}
	if rl.Burst > 0 && !(rl.PerSecond > 0) {
		errs = append(errs, fmt.Errorf("simulator: Config.%s.PerSecond: must be > 0 when Burst > 0", field))
	}
	switch rl.Style {
	case StyleSynapse, StyleDendrite, StyleBare:
	default:
		errs = append(errs, fmt.Errorf("simulator: Config.%s.Style: %q is not synapse, dendrite or bare", field, rl.Style))
	}
	return errs
}

// bucket is one sender's token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// advice is the window a sender was told to stay away for. Requests that
// arrive inside it were sent by a client that ignored the 429's advice.
type advice struct {
	issued, until time.Time
}

// limiter is the per-sender rate limiter plus the memory of the advice it
// gave, used to count early requests.
type limiter struct {
	mu      sync.Mutex
	cfg     RateLimit
	buckets map[string]*bucket // by sender; bounded by the configured users
	advice  map[string]advice
}

func newLimiter(cfg RateLimit) *limiter {
	l := &limiter{}
	l.set(cfg)
	return l
}

// set replaces the limit and forgets the buckets (all start full), but
// keeps advice already given: a client told to wait must still wait.
func (l *limiter) set(cfg RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg.withDefaults()
	l.buckets = map[string]*bucket{}
	if l.advice == nil {
		l.advice = map[string]advice{}
	}
}

// reset forgets buckets and advice.
func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets = map[string]*bucket{}
	l.advice = map[string]advice{}
}

// early reports whether a request from sender that arrived at arrival
// came back before the time a previous 429 told it to wait for. A request
// that arrived before that 429 was issued (plus EarlySlack) is not early:
// it was in flight; crossed reports one that arrived inside the slack
// (after the 429 was issued, before the advised time), which the slack
// excused.
func (l *limiter) early(sender string, arrival time.Time) (early, crossed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.advice[sender]
	if !ok || !arrival.Before(a.until) || arrival.Before(a.issued) {
		return false, false
	}
	if arrival.Before(a.issued.Add(l.cfg.EarlySlack)) {
		return false, true
	}
	return true, false
}

// check takes a token for sender at now. When none is left it returns the
// 429 reply of the configured style and false.
func (l *limiter) check(sender string, now time.Time) (reply, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rl := l.cfg
	if rl.Burst <= 0 {
		return reply{}, true
	}
	b := l.buckets[sender]
	if b == nil {
		b = &bucket{tokens: float64(rl.Burst), last: now}
		l.buckets[sender] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(rl.Burst), b.tokens+elapsed*rl.PerSecond)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return reply{}, true
	}
	// Time until the next whole token, rounded up to the millisecond so
	// that a client waiting exactly retry_after_ms finds a token.
	ms := int64(math.Ceil((1 - b.tokens) / rl.PerSecond * 1000))
	ms = max(ms, 1)
	if rl.Style == StyleBare {
		return reply{status: http.StatusTooManyRequests, contentType: "text/plain; charset=utf-8",
			body: []byte("429 Too Many Requests\n"), delay: rl.Pause}, false
	}
	// The advice is given when the answer leaves, after the pause; the
	// time it names is counted from now, as Synapse counts it.
	l.remember(sender, now.Add(rl.Pause), now.Add(time.Duration(ms)*time.Millisecond))
	rep := errReply(http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too Many Requests")
	rep.delay = rl.Pause
	rep.extra["retry_after_ms"] = ms
	if rl.Style == StyleSynapse {
		rep.retryAfter = strconv.FormatInt((ms+999)/1000, 10)
	}
	return rep, false
}

// remember records advice to stay away until until. Overlapping windows
// merge, so a request is early if any advice still in force covered it.
func (l *limiter) remember(sender string, issued, until time.Time) {
	if prev, ok := l.advice[sender]; ok && issued.Before(prev.until) {
		issued = prev.issued
		if prev.until.After(until) {
			until = prev.until
		}
	}
	l.advice[sender] = advice{issued: issued, until: until}
}
