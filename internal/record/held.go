package record

import (
	"fmt"
	"strings"
	"time"
)

// HeldError says that the only invites left wait behind pauses: nothing
// more can happen until someone acts (worker --until-idle exits 4).
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

// PausedError says a pause holds one invite: the delivery that met it
// moved the record to state "paused" and hands the task back.
type PausedError struct {
	Scope PauseScope
	Since time.Time
}

func (e *PausedError) Error() string {
	return fmt.Sprintf("held by a %s pause since %s", e.Scope, e.Since.UTC().Format(time.RFC3339))
}
