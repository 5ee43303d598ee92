package record

import (
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// Verdict says what a registration did.
type Verdict int

const (
	// Registered: the invite is new (or re-invited): enqueue it.
	Registered Verdict = 1
	// AlreadyPending: the same invite is queued, scheduled or in progress.
	AlreadyPending Verdict = 0
	// AlreadyDone: the same invite has a final result; re-invite with again.
	AlreadyDone Verdict = 2
	// DuplicateInRun: the same import run already registered (or counted)
	// this invite: the row is a duplicate of an earlier row of the import.
	DuplicateInRun Verdict = 3
)

// String names the verdict.
func (v Verdict) String() string {
	switch v {
	case Registered:
		return "registered"
	case AlreadyPending:
		return "already pending"
	case AlreadyDone:
		return "already done"
	case DuplicateInRun:
		return "duplicate in this import"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// RegisterOptions are the choices shared by the registrations of one call.
type RegisterOptions struct {
	// Again re-invites finished invites as a new generation.
	Again bool
	// ImportRun, if set, tags every registration with this import run ID.
	// An invite the same run already registered or counted is then
	// DuplicateInRun: an importer learns about duplicate rows from Redis
	// instead of remembering every address it read.
	ImportRun string
}

// Registration is one invite to register, and what came of it.
type Registration struct {
	// Invite is the invite; registration sets its Generation.
	Invite tasks.Invite
	// Scheduled records the invite as scheduled rather than queued.
	Scheduled bool
	// ProcessAt, when not zero, is recorded, so the schedule of an import
	// can be read back from the records.
	ProcessAt time.Time
	// Verdict is set by the registration.
	Verdict Verdict
	// HeldBy is set for AlreadyPending and AlreadyDone: the campaign of the
	// existing record, which may be another campaign than Invite.Campaign
	// (the invite goes out, or went out, under that one).
	HeldBy string
}

// Holder is what an invite's record says about it: its state (StateNone
// when there is no record) and the campaign it belongs to.
type Holder struct {
	State    State
	Campaign string
}
