package worker

import (
	"context"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// Ledger is what a delivery needs from Redis: the invite's record, its
// sender's shared rate-limit gate and back-off, and pauses. *rdb.Client
// implements it; tests of the job loop use a fake (fakeledger_test.go), as
// asynq's processor is tested against its broker interface.
type Ledger interface {
	// Begin starts a delivery: rdb.ErrStale, rdb.ErrDone, a
	// *record.PausedError, or the invite's progress.
	Begin(ctx context.Context, inv tasks.Invite, opts rdb.BeginOptions) (record.Progress, error)
	// BeginRef is Begin for a task carrying only a reference to its
	// record, which gives the invite (rdb.ErrGone: there is none).
	BeginRef(ctx context.Context, ref tasks.InviteRef, opts rdb.BeginOptions) (record.Progress, tasks.Invite, error)
	// Attempt records a non-final step and the invite's new state.
	Attempt(ctx context.Context, inv tasks.Invite, p record.Progress, state record.State, u record.AttemptUpdate) error
	// Finish records the final result once; first is false when it
	// already was final.
	Finish(ctx context.Context, inv tasks.Invite, p record.Progress, u record.AttemptUpdate, f record.Final) (first bool, err error)

	// Acquire reserves the sender's next send slot (marking the request in
	// flight when it is now); Send marks a reserved request in flight.
	Acquire(ctx context.Context, inv tasks.Invite, p record.Progress, maxWait time.Duration) (rdb.Slot, error)
	Send(ctx context.Context, inv tasks.Invite, p record.Progress) (wait time.Duration, paused bool, sentAt int64, err error)
	// Limited records a 429 and decides whose it is: the invitee's, the
	// room's or the sender's (whose gate then closes for the advice).
	Limited(ctx context.Context, inv tasks.Invite, p record.Progress, advice time.Duration, reservedAt, sentAt int64) (rdb.LimitDecision, error)
	// Failed and Recovered keep the sender's back-off (backoff.go).
	Failed(ctx context.Context, sender, campaign, key string, reservedAt, sentAt int64, fresh bool, threshold int, schedule []time.Duration) (rdb.BackoffVerdict, error)
	Recovered(ctx context.Context, sender string) error

	// SetPause pauses a sender or campaign (created: it was not paused).
	SetPause(ctx context.Context, scope record.PauseScope, name, kind, reason string) (created bool, err error)
	// Breaker evaluates a campaign's breaker after a failure.
	Breaker(ctx context.Context, campaign string, n int, status, reason string) (rdb.BreakerVerdict, error)
}

var _ Ledger = (*rdb.Client)(nil)
