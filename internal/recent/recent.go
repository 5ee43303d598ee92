// Package recent remembers, per key, that something was seen lately: a
// process's short memory of events it should not ask Redis about again.
package recent

import (
	"sync"
	"time"
)

// Set remembers keys for a while. The zero value remembers nothing (For is
// 0); it is safe for concurrent use.
type Set struct {
	// For is how long a noted key is remembered.
	For  time.Duration
	seen sync.Map // key -> time.Time it was noted
}

// Note remembers keys from now.
func (s *Set) Note(keys ...string) {
	now := time.Now()
	for _, k := range keys {
		s.seen.Store(k, now)
	}
}

// Forget forgets keys.
func (s *Set) Forget(keys ...string) {
	for _, k := range keys {
		s.seen.Delete(k)
	}
}

// Any reports whether one of keys was noted less than For ago.
func (s *Set) Any(keys ...string) bool {
	for _, k := range keys {
		if at, ok := s.seen.Load(k); ok && time.Since(at.(time.Time)) < s.For {
			return true
		}
	}
	return false
}
