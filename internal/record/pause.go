package record

import (
	"errors"
	"fmt"
	"time"
)

// A pause holds every invite of a sender or of a campaign: nothing of it is
// sent, and its invites stay queued (state "paused" once a worker has seen
// them), until the pause ends. A failure that belongs to a sender (a dead
// access token, identity-server terms not accepted) or to a campaign (its
// first invites all failed the same way) is handled once for it, not once
// per address. Pauses live in Redis, so every worker process honours them
// and they survive restarts.

// PauseScope says what a pause holds.
type PauseScope string

// The scopes of a pause.
const (
	// PauseSender holds every invite of a sender profile, of every campaign.
	PauseSender PauseScope = "sender"
	// PauseCampaign holds every invite of one campaign.
	PauseCampaign PauseScope = "campaign"
)

// ParsePauseScope reads "sender" or "campaign".
func ParsePauseScope(s string) (PauseScope, error) {
	switch PauseScope(s) {
	case PauseSender, PauseCampaign:
		return PauseScope(s), nil
	}
	return "", fmt.Errorf("pause scope %q: want sender or campaign", s)
}

// Kinds of pause: why it was set, for programs (Reason is for people).
const (
	PauseDeadToken     = "dead_token"     // the homeserver refuses the sender's access token
	PauseIdentityTerms = "identity_terms" // the identity server's terms are not accepted
	PauseIdentityToken = "identity_token" // the identity server refuses the configured token
	PauseBreaker       = "breaker"        // the campaign's first invites all failed the same way
	PauseManual        = "manual"         // set by an operator
)

// Pause is one pause as stored.
type Pause struct {
	Scope  PauseScope `json:"scope"`
	Name   string     `json:"name"`
	Kind   string     `json:"kind"`
	Reason string     `json:"reason"`
	Since  time.Time  `json:"since"`
}

// String is the pause in one line, for logs and the CLI.
func (p Pause) String() string {
	return fmt.Sprintf("%s %s paused since %s: %s", p.Scope, p.Name, p.Since.UTC().Format(time.RFC3339), p.Reason)
}

// ErrNotPaused is returned when resuming something that was not paused.
var ErrNotPaused = errors.New("not paused")
