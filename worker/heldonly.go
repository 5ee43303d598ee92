package worker

import (
	"context"
	"fmt"
	"strings"
)

// HeldError is what Worker.Run with untilIdle returns when the only invites
// left wait behind pauses: nothing more can happen until someone acts.
type HeldError struct {
	// Held counts the invites held.
	Held int
	// Pauses are the pauses holding them.
	Pauses []Pause
}

// Error is one line an operator can act on.
func (e *HeldError) Error() string {
	parts := make([]string, 0, len(e.Pauses))
	for _, p := range e.Pauses {
		parts = append(parts, fmt.Sprintf("%s %s: %s", p.Scope, p.Name, p.Reason))
	}
	return fmt.Sprintf("%d invites wait behind a pause (%s)", e.Held, strings.Join(parts, "; "))
}

// heldOnly returns a *HeldError when some invites are held by pauses and
// every other invite of every campaign is final; nil otherwise.
func (s *Store) heldOnly(ctx context.Context) (*HeldError, error) {
	pauses, err := s.Pauses(ctx)
	if err != nil || len(pauses) == 0 {
		return nil, err
	}
	names, err := s.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	held := 0
	for _, name := range names {
		c, err := s.Counts(ctx, name)
		if err != nil {
			return nil, err
		}
		paused := c.States[StatePaused]
		if c.Pending() != paused {
			return nil, nil
		}
		held += paused
	}
	if held == 0 {
		return nil, nil
	}
	return &HeldError{Held: held, Pauses: pauses}, nil
}
