// Package turns gives a sender's invites their turns in one worker
// process: Slots caps the sender's invites in flight, and when a slot
// frees it goes to the waiting invite of the highest priority, the longest
// waiting first among equals. Each lane of the sender (tasks/queue.go) has
// its own asynq server and slots, so its invites wait here side by side:
// the normal lanes take turns in the order their invites arrived, and a
// high-priority campaign's invites go before every waiting normal one.
package turns

import (
	"context"
	"errors"
	"sync"

	"github.com/mxinvite/mxinvite/tasks"
)

// ErrStopping is Acquire's error when the worker started shutting down
// while the invite waited: nothing was sent, the task goes back at once.
var ErrStopping = errors.New("turns: shutting down")

// Slots is a sender's cap of invites in flight, with turns by priority.
// The zero value is not usable; a nil *Slots has no cap.
type Slots struct {
	mu    sync.Mutex
	free  int
	queue [3][]chan struct{} // waiting, by class: high, normal, low
}

// New returns a cap of n slots, or nil (no cap) for n <= 0.
func New(n int) *Slots {
	if n <= 0 {
		return nil
	}
	return &Slots{free: n}
}

func class(p tasks.Priority) int {
	switch p {
	case tasks.PriorityHigh:
		return 0
	case tasks.PriorityLow:
		return 2
	}
	return 1
}

// Acquire takes a slot for an invite of priority p, waiting for its turn.
// If stopping closes first it returns ErrStopping; if ctx ends, its error.
// release gives the slot back; it must be called exactly once.
func (s *Slots) Acquire(ctx context.Context, stopping <-chan struct{}, p tasks.Priority) (release func(), err error) {
	if s == nil {
		return func() {}, nil
	}
	c := class(p)
	s.mu.Lock()
	if s.free > 0 && s.waiting() == 0 {
		s.free--
		s.mu.Unlock()
		return s.release, nil
	}
	ch := make(chan struct{}, 1)
	s.queue[c] = append(s.queue[c], ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return s.release, nil
	case <-stopping:
		err = ErrStopping
	case <-ctx.Done():
		err = ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := indexOf(s.queue[c], ch); i >= 0 {
		s.queue[c] = append(s.queue[c][:i], s.queue[c][i+1:]...)
		return nil, err
	}
	// Given a slot just as it gave up: pass it on.
	s.handOn()
	return nil, err
}

// Waiting is how many invites wait for a slot.
func (s *Slots) Waiting() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting()
}

func (s *Slots) waiting() int { return len(s.queue[0]) + len(s.queue[1]) + len(s.queue[2]) }

func (s *Slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handOn()
}

// handOn gives a freed slot to the first waiter of the highest class, or
// keeps it free. Called with mu held.
func (s *Slots) handOn() {
	for c := range s.queue {
		if len(s.queue[c]) > 0 {
			ch := s.queue[c][0]
			s.queue[c] = s.queue[c][1:]
			ch <- struct{}{}
			return
		}
	}
	s.free++
}

func indexOf(q []chan struct{}, ch chan struct{}) int {
	for i, x := range q {
		if x == ch {
			return i
		}
	}
	return -1
}
