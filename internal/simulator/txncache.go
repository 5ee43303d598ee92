package simulator

import (
	"context"
	"sync"
	"time"
)

// txnCache replays answers of PUT /rooms/{roomId}/invite/{txnId}, like
// Synapse's HttpTransactionCache: keyed by the requester and the request
// path, successes are kept for the TTL, failures are forgotten at once
// (so a retry after a 429 or a 500 runs again), and a request arriving
// while the same transaction is still running waits for its answer.
type txnCache struct {
	mu        sync.Mutex
	ttl       time.Duration
	entries   map[string]*txnEntry
	lastSweep time.Time
}

// txnEntry is one transaction; done is closed once rep is set.
type txnEntry struct {
	done     chan struct{}
	finished bool
	rep      reply
	expires  time.Time
}

func newTxnCache(ttl time.Duration) *txnCache {
	return &txnCache{ttl: ttl, entries: map[string]*txnEntry{}}
}

// txnKey keys a transaction by access token, device, room and txnId: the
// device and path of Synapse's key, the token so that two sessions of one
// device never share answers.
func txnKey(u User, roomID, txnID string) string {
	return u.AccessToken + "\x00" + u.DeviceID + "\x00" + roomID + "\x00" + txnID
}

// begin looks the transaction up. It returns the existing entry and false
// when there is one (finished and fresh, or in flight); otherwise it
// registers a new entry that the caller owns and must finish.
func (c *txnCache) begin(key string, now time.Time) (*txnEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweep(now)
	if e, ok := c.entries[key]; ok && (!e.finished || now.Before(e.expires)) {
		return e, false
	}
	e := &txnEntry{done: make(chan struct{})}
	c.entries[key] = e
	return e, true
}

// finish records the owner's answer and wakes the waiters. Only 2xx
// answers stay cached.
func (c *txnCache) finish(key string, e *txnEntry, rep reply, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.rep, e.finished, e.expires = rep, true, now.Add(c.ttl)
	// Synapse caches the answers its own handler gave; an odd body (a
	// proxy's page, a scripted non-JSON or empty 200) is not one of them.
	if (rep.isError() || rep.raw || rep.nonJSON) && c.entries[key] == e {
		delete(c.entries, key)
	}
	close(e.done)
}

// wait returns the answer of an entry, waiting while it is in flight; it
// gives up (false) when ctx ends first.
func (e *txnEntry) wait(ctx context.Context) (reply, bool) {
	select {
	case <-e.done:
		return e.rep, true
	case <-ctx.Done():
		return reply{}, false
	}
}

// sweep drops expired entries, at most once per minute (or per TTL when
// shorter), so the cache stays bounded by the traffic of one TTL.
func (c *txnCache) sweep(now time.Time) {
	if now.Sub(c.lastSweep) < min(c.ttl, time.Minute) {
		return
	}
	c.lastSweep = now
	for k, e := range c.entries {
		if e.finished && !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
}

// reset forgets every transaction. Owners still running finish entries no
// longer in the map, which is harmless.
func (c *txnCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]*txnEntry{}
}
