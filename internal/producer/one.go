package producer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// ErrNotRetriable is returned (wrapped) by RetryInvite for an invite that
// was delivered (Success) or has not finished.
var ErrNotRetriable = errors.New("not retriable")

// CancelInvite cancels one invite not sent yet, and deletes its task from
// the producer's queue (no worker takes it): Cancel's bookkeeping for one
// invite. An invite being sent or finished is left alone and said so.
func (p *Producer) CancelInvite(ctx context.Context, key string) (record.CancelOneStats, error) {
	return p.store.CancelInvite(ctx, key, p.queue)
}

// RetryInvite re-enqueues one finished invite that did not succeed (or a
// cancelled one), as a new generation: Retry's bookkeeping for one invite.
// A delivered invite is never sent again.
func (p *Producer) RetryInvite(ctx context.Context, key string) (record.Verdict, error) {
	r, ok, err := p.store.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("invite %s: %w", key, rdb.ErrNoInvite)
	}
	switch {
	case r.State == record.StateDone && r.StatusCode == matrix.Success:
		return 0, fmt.Errorf("%s was delivered (Success): %w; re-invite it with invite --again", r.Address, ErrNotRetriable)
	case r.State != record.StateDone && r.State != record.StateCancelled:
		return 0, fmt.Errorf("%s is %s, not finished: %w", r.Address, r.State, ErrNotRetriable)
	}
	inv := tasks.Invite{
		Campaign: r.Campaign, RoomID: r.RoomID, Medium: tasks.Medium(r.Medium), Address: r.Address,
		IDServer: r.IDServer, Sender: r.Sender, EnqueuedAt: time.Now().UTC(),
	}
	v, err := p.EnqueueBatch(ctx, []Item{{Invite: inv}}, Options{Again: true})
	if err != nil {
		return 0, err
	}
	return v[0], nil
}
