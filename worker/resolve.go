package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// Resolve-first. Synapse charges every 3PID invite to rc_third_party_invite
// (burst 5, then one per 400 s by default) before it looks the address up,
// even when the address is bound to an account; an invite by Matrix ID is
// charged to rc_invites instead (per issuer 0.3/s, burst 10). So before a
// 3PID invite the worker looks the address up itself, as Element does
// (identity service v2: hash_details + lookup, hashed with the server's
// pepper, matrix.IdentityClient.Lookup), and invites a bound address by its
// Matrix ID, on its own gate (record.PathMatrixID), or not at all when the
// account is already in the room or invited. Lookups of concurrent
// deliveries go in one request (lookupLinger), answers are reused for
// Config.LookupCacheTTL, and an identity server without the v2 lookup
// (Dendrite's v1-only ones) or without a token to be had is remembered and
// its addresses go by 3PID, as before. A failed lookup never fails an
// invite: it goes by 3PID, and the homeserver does its own lookup.

// lookupLinger is how long a lookup waits for others to join its request.
const lookupLinger = 5 * time.Millisecond

// maxLookupBatch caps the addresses of one lookup request.
const maxLookupBatch = 500

// noV2Retry is how long an identity server that showed it has no v2 lookup
// is not asked again.
const noV2Retry = 10 * time.Minute

// lookupTimeout bounds one lookup request (with its hash_details).
const lookupTimeout = 30 * time.Second

// errNoV2Lookup: the identity server has no v2 lookup (recently seen).
var errNoV2Lookup = errors.New("the identity server has no v2 lookup")

// resolver is the Handler's lookups: cache, peppers and open batches.
type resolver struct {
	ttl     time.Duration
	mu      sync.Mutex
	cache   map[lookupKey]lookupEntry
	peppers map[string]string       // identity server -> its pepper
	noV2    map[string]time.Time    // identity server -> when it showed no v2 lookup
	open    map[string]*lookupBatch // identity server + token -> the batch collecting
}

type lookupKey struct {
	idServer string
	pid      matrix.ThreePID
}

type lookupEntry struct {
	user matrix.UserID // "" unbound
	at   time.Time
}

// lookupBatch is one lookup request being collected, then its answer.
type lookupBatch struct {
	pids []matrix.ThreePID
	done chan struct{}
	ans  matrix.LookupAnswer
	err  error
}

func newResolver(ttl time.Duration) *resolver {
	return &resolver{ttl: ttl, cache: map[lookupKey]lookupEntry{}, peppers: map[string]string{},
		noV2: map[string]time.Time{}, open: map[string]*lookupBatch{}}
}

// resolve returns the account pid is bound to ("" for none), from the
// cache or a lookup shared with concurrent callers.
func (r *resolver) resolve(ctx context.Context, ic *matrix.IdentityClient, token string, pid matrix.ThreePID) (matrix.UserID, error) {
	idServer := ic.Server()
	pid.Address = matrix.CanonicalAddress(pid.Medium, pid.Address)
	r.mu.Lock()
	if at, ok := r.noV2[idServer]; ok && time.Since(at) < noV2Retry {
		r.mu.Unlock()
		return "", errNoV2Lookup
	}
	if e, ok := r.cache[lookupKey{idServer, pid}]; ok && time.Since(e.at) < r.ttl {
		r.mu.Unlock()
		return e.user, nil
	}
	bk := idServer + "\x00" + token
	b := r.open[bk]
	if b == nil || len(b.pids) >= maxLookupBatch {
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
func (r *resolver) run(ic *matrix.IdentityClient, token, bk string, b *lookupBatch) {
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
		b.err = errNoV2Lookup
	default:
		b.err = errors.New("lookup: " + o.Status.String())
	}
	r.mu.Unlock()
	b.ans = ans
	close(b.done)
}

// sweep drops stale answers once the cache is large, so it never grows
// past a campaign's worth of addresses per TTL.
func (r *resolver) sweep(now time.Time) {
	if len(r.cache) < 10_000 {
		return
	}
	for k, e := range r.cache {
		if now.Sub(e.at) >= r.ttl {
			delete(r.cache, k)
		}
	}
}

// resolveFirst looks the invite's address up before its first request. A
// bound address whose account is in the room or invited already ends the
// invite (Success, no request); another bound one is invited by Matrix ID
// (j.p.Path, j.userID). Anything else — unbound, no token, no v2 lookup, a
// failed lookup — leaves the invite to go by 3PID.
func (j *job) resolveFirst(ctx context.Context, room matrix.RoomID, idServer string) (ended bool, err error) {
	tok, err := j.identityToken(ctx, idServer)
	if err != nil || tok == "" {
		return false, err
	}
	user, err := j.h.resolver.resolve(ctx, j.snd.client().Identity(idServer), tok,
		matrix.ThreePID{Medium: string(j.inv.Medium), Address: j.inv.Address})
	switch {
	case ctx.Err() != nil:
		return false, ctx.Err()
	case err != nil:
		j.log.Debug().Err(err).Msg("no lookup; invited by 3PID")
		return false, nil
	case user == "":
		return false, nil
	}
	// The state endpoint, not the members list: one small answer about one
	// account, readable by the sender as a member of the room.
	m, o := j.snd.client().Membership(ctx, room, user)
	if o.Status.Good() && (m == matrix.MembershipJoin || m == matrix.MembershipInvite) {
		f := record.Final{Status: matrix.Success, UserID: string(user), Delivery: record.DeliveryAlreadyInvited}
		if m == matrix.MembershipJoin {
			f.Delivery, f.JoinedAt = record.DeliveryAlreadyJoined, time.Now()
		}
		return true, j.end(ctx, f, record.AttemptUpdate{})
	}
	j.userID, j.p.Path = user, record.PathMatrixID
	return false, nil
}
