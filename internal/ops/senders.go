package ops

import (
	"context"
	"errors"
	"fmt"
	"github.com/mxinvite/mxinvite/internal/observe"
	"slices"
	"strings"
	"sync"
)

// SenderStates follows the senders' checks at start from the worker's
// events (it is an observe.Observer: combine it with the metrics through
// observe.All) and is ready unless a sender's check failed. Pauses are
// not its business: they are read from Redis (SenderPauses), where any
// worker, the CLI or the dashboard may set or end them.
type SenderStates struct {
	observe.Nop

	names          []string
	requireChecked bool

	mu      sync.Mutex
	checked map[string]error
}

// NewSenderStates follows the named senders. With requireChecked, a
// sender is not ready until the worker reported its check (SenderChecked);
// set it where the worker checks its senders at start.
func NewSenderStates(names []string, requireChecked bool) *SenderStates {
	return &SenderStates{names: slices.Clone(names), requireChecked: requireChecked, checked: map[string]error{}}
}

// SenderChecked records a sender's check.
func (s *SenderStates) SenderChecked(sender string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checked[sender] = err
}

// Ready fails, naming them, for senders whose check failed (or, with
// requireChecked, has not been made).
func (s *SenderStates) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var problems []string
	for _, name := range s.names {
		err, ok := s.checked[name]
		switch {
		case ok && err != nil:
			problems = append(problems, fmt.Sprintf("%s check failed: %v", name, err))
		case !ok && s.requireChecked:
			problems = append(problems, name+" not checked yet")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New(strings.Join(problems, "; "))
}
