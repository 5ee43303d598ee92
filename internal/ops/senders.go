package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mxinvite/mxinvite/worker"
)

// SenderStates follows the senders' checks and pauses from the worker's
// events (it is a worker.Observer: combine it with the metrics through
// worker.Observers) and is ready unless a sender's check failed or every
// sender is paused.
type SenderStates struct {
	worker.NopObserver

	names          []string
	requireChecked bool

	mu      sync.Mutex
	checked map[string]error
	paused  map[string]string
}

// NewSenderStates follows the named senders. With requireChecked, a
// sender is not ready until the worker reported its check (SenderChecked);
// set it where the worker checks its senders at start.
func NewSenderStates(names []string, requireChecked bool) *SenderStates {
	return &SenderStates{
		names: slices.Clone(names), requireChecked: requireChecked,
		checked: map[string]error{}, paused: map[string]string{},
	}
}

// SenderChecked records a sender's check.
func (s *SenderStates) SenderChecked(sender string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked[sender] = err
}

// SenderPaused records a pause.
func (s *SenderStates) SenderPaused(sender, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paused[sender] = reason
}

// SenderResumed ends a pause.
func (s *SenderStates) SenderResumed(sender string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.paused, sender)
}

// Paused returns the paused senders with their reasons.
func (s *SenderStates) Paused() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.paused))
	for k, v := range s.paused {
		out[k] = v
	}
	return out
}

// Ready fails, naming them, for senders whose check failed (or, with
// requireChecked, has not been made), and when every sender is paused.
func (s *SenderStates) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var problems, paused []string
	for _, name := range s.names {
		err, ok := s.checked[name]
		switch {
		case ok && err != nil:
			problems = append(problems, fmt.Sprintf("%s check failed: %v", name, err))
		case !ok && s.requireChecked:
			problems = append(problems, name+" not checked yet")
		}
		if reason, ok := s.paused[name]; ok {
			paused = append(paused, fmt.Sprintf("%s (%s)", name, reason))
		}
	}
	if len(s.names) > 0 && len(paused) == len(s.names) {
		problems = append(problems, "all paused: "+strings.Join(paused, ", "))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}
