package worker

import (
	"fmt"
	"time"
)

// heldError tells the handler that a pause holds the invite (see pause.go):
// the begin script has already moved its record to state "paused".
type heldError struct {
	scope PauseScope
	since time.Time
}

func (e *heldError) Error() string {
	return fmt.Sprintf("held by a %s pause since %s", e.scope, e.since.UTC().Format(time.RFC3339))
}

// Held invites come back to look at their pause after a delay that grows
// with the pause's age, so that a pause of thousands of invites costs Redis
// little while it lasts; ending a pause (Producer.Resume, or a worker that
// finds a new token) wakes them at once.
const (
	minHeldDelay = 2 * time.Second
	maxHeldDelay = 5 * time.Minute
)

// heldDelay is when a held invite is delivered again.
func heldDelay(since time.Time) time.Duration {
	return min(max(time.Since(since)/4, minHeldDelay), maxHeldDelay)
}

// unservedDelay is when an invite naming a sender profile this worker does
// not serve is delivered again (to this worker or to one that serves it).
const unservedDelay = 30 * time.Second
