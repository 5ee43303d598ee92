package matrix

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Resolver resolves 3PIDs to accounts with Lookup, for many concurrent
// callers (the worker's deliveries): lookups that arrive within
// while another is in flight go together in the next request per identity server and
// token (up to MaxLookupBatch addresses), answers are reused for a TTL,
// and an identity server without the v2 lookup is remembered for
// noV2Retry, so its callers go by 3PID at once. Safe for concurrent use.
// Batching is group commit, not a timer: a lookup with none in flight for
// its identity server and token goes at once; those that arrive while one
// is in flight wait for it and go together in the next. A timer (a linger
// of a few ms) released deliveries together and their invites reached the
// rate-limit gate in bursts, which made Synapse's limiter answer 429 more
// often (worker TestGateKeepsRateLimitedShareLow); this costs a request no
// wait when lookups are few and batches them when they are many.

// MaxLookupBatch caps the addresses of one lookup request (Sydent takes
// more; a smaller request fails less at once).
const MaxLookupBatch = 500

// noV2Retry is how long an identity server that showed it has no v2 lookup
// is not asked again.
const noV2Retry = 10 * time.Minute

// lookupTimeout bounds one lookup request (with its hash_details).
const lookupTimeout = 30 * time.Second

// ErrNoV2Lookup: the identity server has no v2 lookup (recently seen).
var ErrNoV2Lookup = errors.New("matrix: the identity server has no v2 lookup")

type Resolver struct {
	ttl     time.Duration
	mu      sync.Mutex
	cache   map[lookupKey]lookupEntry
	peppers map[string]string      // identity server -> its pepper
	noV2    map[string]time.Time   // identity server -> when it showed no v2 lookup
	lanes   map[string]*lookupLane // identity server + token -> its lookups
	batch   int                    // most addresses per request; 1: no batching
	// sweepAt is the cache size at which the next sweep runs (see sweep).
	sweepAt int
}

// minSweep is the cache size below which stale answers are left in place.
const minSweep = 10_000

type lookupKey struct {
	idServer string
	pid      ThreePID
}

type lookupEntry struct {
	user UserID // "" unbound
	at   time.Time
}

// lookupBatch is one lookup request being collected, then its answer.
type lookupBatch struct {
	pids []ThreePID
	done chan struct{}
	ans  LookupAnswer
	err  error
}

// NewResolver returns a Resolver whose answers live ttl.
//
// batch is the most addresses one request carries (at most
// MaxLookupBatch); 1 sends each lookup on its own, at once and
// concurrently. The worker uses 1: batched answers release many deliveries
// at the same instant, and a burst of invites reaching a rate limit
// together gets some accepted and some 429s, which reads as invitee-scoped
// limits rather than the sender's (internal/rdb/scope.go), so the sender's
// pace does not slow and 429s multiply (worker
// TestGateKeepsRateLimitedShareLow: 27 429s of 327 requests without
// lookups, 49 with one lookup per invite, 135–228 batched). mxinvite track
// looks up in batches of MaxLookupBatch through IdentityClient.Lookup.
func NewResolver(ttl time.Duration, batch int) *Resolver {
	return &Resolver{ttl: ttl, cache: map[lookupKey]lookupEntry{}, peppers: map[string]string{},
		noV2: map[string]time.Time{}, lanes: map[string]*lookupLane{}, batch: min(max(batch, 1), MaxLookupBatch)}
}

// Resolve returns the account pid is bound to ("" for none), from the
// cache or a lookup shared with concurrent callers.
func (r *Resolver) Resolve(ctx context.Context, ic *IdentityClient, token string, pid ThreePID) (UserID, error) {
	idServer := ic.Server()
	pid.Address = CanonicalAddress(pid.Medium, pid.Address)
	r.mu.Lock()
	if at, ok := r.noV2[idServer]; ok && time.Since(at) < noV2Retry {
		r.mu.Unlock()
		return "", ErrNoV2Lookup
	}
	if e, ok := r.cache[lookupKey{idServer, pid}]; ok && time.Since(e.at) < r.ttl {
		r.mu.Unlock()
		return e.user, nil
	}
	if r.batch == 1 {
		r.mu.Unlock()
		b := &lookupBatch{pids: []ThreePID{pid}, done: make(chan struct{})}
		r.run(ic, token, b)
		if b.err != nil {
			return "", b.err
		}
		return b.ans.Bound[pid], nil
	}
	bk := idServer + "\x00" + token
	lane := r.lanes[bk]
	if lane == nil {
		lane = &lookupLane{}
		r.lanes[bk] = lane
	}
	var b *lookupBatch
	if n := len(lane.queue); n > 0 && len(lane.queue[n-1].pids) < r.batch {
		b = lane.queue[n-1]
	} else {
		b = &lookupBatch{done: make(chan struct{})}
		lane.queue = append(lane.queue, b)
		if !lane.busy {
			lane.busy = true
			go r.drain(ic, token, lane)
		}
	}
	b.pids = append(b.pids, pid)
	r.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if b.err != nil {
		return "", b.err
	}
	return b.ans.Bound[pid], nil
}

// lookupLane is one identity server and token's lookups: busy while a
// request is in flight, queue the batches collecting for the ones after.
type lookupLane struct {
	busy  bool
	queue []*lookupBatch
}

// drain sends the lane's batches one after another until none is waiting.
func (r *Resolver) drain(ic *IdentityClient, token string, lane *lookupLane) {
	for {
		r.mu.Lock()
		if len(lane.queue) == 0 {
			lane.busy = false
			r.mu.Unlock()
			return
		}
		b := lane.queue[0]
		lane.queue = lane.queue[1:]
		r.mu.Unlock()
		r.run(ic, token, b)
	}
}

// run sends a batch's lookup and keeps its answers.
func (r *Resolver) run(ic *IdentityClient, token string, b *lookupBatch) {
	idServer := ic.Server()
	r.mu.Lock()
	pids, pepper := b.pids, r.peppers[idServer]
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	ans, o := ic.Lookup(ctx, token, pepper, pids)
	now := time.Now()
	r.mu.Lock()
	switch {
	case o.Status.Good():
		r.peppers[idServer] = ans.Pepper
		for _, p := range pids {
			r.cache[lookupKey{idServer, p}] = lookupEntry{user: ans.Bound[p], at: now}
		}
		r.sweep(now)
	case ans.NoV2:
		r.noV2[idServer] = now
		b.err = ErrNoV2Lookup
	default:
		b.err = errors.New("lookup: " + o.Status.String())
	}
	r.mu.Unlock()
	b.ans = ans
	close(b.done)
}

// sweep drops stale answers once the cache is large, so it never grows
// past twice a campaign's worth of addresses per TTL. It runs when the
// cache has doubled since the last sweep left it (at least minSweep), not
// on every answer past minSweep: a sweep walks the whole cache under the
// lock, and walking it after every lookup of a big campaign was the
// worker's largest CPU cost (issue 26's profile: 28 % of it).
func (r *Resolver) sweep(now time.Time) {
	if len(r.cache) < max(minSweep, r.sweepAt) {
		return
	}
	for k, e := range r.cache {
		if now.Sub(e.at) >= r.ttl {
			delete(r.cache, k)
		}
	}
	r.sweepAt = 2 * len(r.cache)
}
