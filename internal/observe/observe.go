// Package observe is the contract between the executor (worker) and
// what watches it (internal/metrics, internal/ops): the worker tells an
// Observer what it does; neither side imports the other.
package observe

import (
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// Observer is told what the worker does, for metrics and health: it is how
// the worker reports without depending on a metrics library. Calls come from
// the goroutines of concurrent invites, so implementations must be safe for
// concurrent use, and quick: they run on the invite's path.
//
// Sender and campaign names come from tasks: an implementation that turns
// them into metric labels bounds how many it keeps.
type Observer interface {
	// Attempt reports one invite call and its outcome, whatever became of
	// it (o.Requests is how many HTTP requests it wrote to the wire).
	Attempt(sender string, o matrix.Outcome)
	// GateWait reports how long an invite waited in-process for its sender's
	// rate-limit gate before its request went out (0 when it went at once).
	GateWait(sender string, d time.Duration)
	// InviteFinished reports an invite's final status, once, when it was
	// recorded; latency runs from the invite's creation (tasks.Invite's
	// EnqueuedAt), so it includes any time it was scheduled to wait.
	InviteFinished(sender, campaign string, status matrix.StatusCode, latency time.Duration)

	// SenderChecked reports the outcome of a sender's check at start
	// (nil: the sender can invite).
	SenderChecked(sender string, err error)
	// SenderPaused reports that a sender stopped sending; reason is a
	// short fixed word (e.g. "forbidden", "rate_limited"), not free text.
	SenderPaused(sender, reason string)
	// SenderResumed reports that a paused sender sends again.
	SenderResumed(sender string)
	// SenderBackoff reports that a sender holds its requests back for d.
	SenderBackoff(sender string, d time.Duration)
}

// Nop ignores everything; it is worker.Config.Observer's default. Embed it
// to implement only some of Observer's methods.
type Nop struct{}

func (Nop) Attempt(string, matrix.Outcome)                                  {}
func (Nop) GateWait(string, time.Duration)                                  {}
func (Nop) InviteFinished(string, string, matrix.StatusCode, time.Duration) {}
func (Nop) SenderChecked(string, error)                                     {}
func (Nop) SenderPaused(string, string)                                     {}
func (Nop) SenderResumed(string)                                            {}
func (Nop) SenderBackoff(string, time.Duration)                             {}

// All tells every one of obs, in order (nil entries are skipped).
func All(obs ...Observer) Observer {
	var list multiObserver
	for _, o := range obs {
		if o != nil {
			list = append(list, o)
		}
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) Attempt(sender string, o matrix.Outcome) {
	for _, x := range m {
		x.Attempt(sender, o)
	}
}

func (m multiObserver) GateWait(sender string, d time.Duration) {
	for _, x := range m {
		x.GateWait(sender, d)
	}
}

func (m multiObserver) InviteFinished(sender, campaign string, status matrix.StatusCode, latency time.Duration) {
	for _, x := range m {
		x.InviteFinished(sender, campaign, status, latency)
	}
}

func (m multiObserver) SenderChecked(sender string, err error) {
	for _, x := range m {
		x.SenderChecked(sender, err)
	}
}

func (m multiObserver) SenderPaused(sender, reason string) {
	for _, x := range m {
		x.SenderPaused(sender, reason)
	}
}

func (m multiObserver) SenderResumed(sender string) {
	for _, x := range m {
		x.SenderResumed(sender)
	}
}

func (m multiObserver) SenderBackoff(sender string, d time.Duration) {
	for _, x := range m {
		x.SenderBackoff(sender, d)
	}
}
