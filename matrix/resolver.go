package matrix

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Resolver resolves 3PIDs to accounts with Lookup, for many concurrent
// callers (the worker's deliveries): lookups that arrive within
// lookupLinger of each other go in one request per identity server and
// token (up to MaxLookupBatch addresses), answers are reused for a TTL,
// and an identity server without the v2 lookup is remembered for
// noV2Retry, so its callers go by 3PID at once. Safe for concurrent use.
// lookupLinger is how long a lookup waits for others to join its request.
const lookupLinger = 5 * time.Millisecond

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
	peppers map[string]string       // identity server -> its pepper
	noV2    map[string]time.Time    // identity server -> when it showed no v2 lookup
	open    map[string]*lookupBatch // identity server + token -> the batch collecting
}

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
func NewResolver(ttl time.Duration) *Resolver {
	return &Resolver{ttl: ttl, cache: map[lookupKey]lookupEntry{}, peppers: map[string]string{},
		noV2: map[string]time.Time{}, open: map[string]*lookupBatch{}}
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
	bk := idServer + "\x00" + token
	b := r.open[bk]
	if b == nil || len(b.pids) >= MaxLookupBatch {
		b = &lookupBatch{done: make(chan struct{})}
		r.open[bk] = b
		time.AfterFunc(lookupLinger, func() { r.run(ic, token, bk, b) })
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

// run sends a batch's lookup and keeps its answers.
func (r *Resolver) run(ic *IdentityClient, token, bk string, b *lookupBatch) {
	idServer := ic.Server()
	r.mu.Lock()
	if r.open[bk] == b {
		delete(r.open, bk)
	}
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
// past a campaign's worth of addresses per TTL.
func (r *Resolver) sweep(now time.Time) {
	if len(r.cache) < 10_000 {
		return
	}
	for k, e := range r.cache {
		if now.Sub(e.at) >= r.ttl {
			delete(r.cache, k)
		}
	}
}
