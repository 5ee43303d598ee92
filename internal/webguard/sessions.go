package webguard

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// sessions are the logins of this process: one per login, ended by logout
// or expiry. They live in memory (a restart ends them all, which costs a
// login) and never in Redis: a session ID is a credential. They are kept by
// the hash of their ID, so a lookup's timing says nothing about a valid ID.
type sessions struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	expires map[[sha256.Size]byte]time.Time
}

func newSessions(ttl time.Duration, max int, now func() time.Time) *sessions {
	return &sessions{ttl: ttl, max: max, now: now, expires: map[[sha256.Size]byte]time.Time{}}
}

// create opens a session and returns its ID (32 random bytes) and expiry.
func (s *sessions) create() (id string, expires time.Time) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it panics first)
	id = base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now()
	expires = now.Add(s.ttl)
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, exp := range s.expires {
		if !now.Before(exp) {
			delete(s.expires, k)
		}
	}
	for len(s.expires) >= s.max {
		var oldest [sha256.Size]byte
		first := true
		for k, exp := range s.expires {
			if first || exp.Before(s.expires[oldest]) {
				oldest, first = k, false
			}
		}
		delete(s.expires, oldest)
	}
	s.expires[sha256.Sum256([]byte(id))] = expires
	return id, expires
}

// valid reports whether id is an open session.
func (s *sessions) valid(id string) bool {
	if id == "" {
		return false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.expires[k]
	if ok && !s.now().Before(exp) {
		delete(s.expires, k)
		return false
	}
	return ok
}

// end closes a session; an unknown ID is ignored.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.expires, sha256.Sum256([]byte(id)))
}

// count is the number of sessions kept (for tests).
func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.expires)
}
