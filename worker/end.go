package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// finalOf is how an attempt's outcome ends the invite.
func (j *job) finalOf(o matrix.Outcome) record.Final {
	f := record.Final{Status: o.Status.Code, Error: o.Status.Message, HTTPStatus: o.HTTPStatus, ErrCode: string(o.ErrCode),
		Delivery: record.Delivery3PID}
	if j.p.Path == record.PathMatrixID {
		f.Delivery, f.UserID = record.DeliveryUserID, string(j.userID)
		if matrix.AlreadyJoined(o) {
			// Joined between the look at the room and the invite: nobody
			// to invite, as resolve-first would have found.
			f.Status, f.Error, f.ErrCode = matrix.Success, "", ""
			f.Delivery, f.JoinedAt = record.DeliveryAlreadyJoined, time.Now()
		}
	}
	return f
}

// end records the final result f (with the last attempt's u) and tells
// asynq not to retry.
func (j *job) end(ctx context.Context, f record.Final, u record.AttemptUpdate) error {
	f.Error = j.scrub(f.Error)
	f.PossibleDuplicate = f.Status.Good() && j.p.Ambiguous > 0
	f.Retries, f.Ambiguous = j.p.Retries, j.p.Ambiguous
	f.FinishedAt = time.Now()
	// The result must be written even if the delivery's context is ending,
	// and even if Redis is briefly unreachable (see finalWriteWindow).
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalWriteWindow)
	defer cancel()
	err := untilWritten(wctx, func(ctx context.Context) error {
		first, err := j.h.ledger.Finish(ctx, j.inv, j.p, u, f)
		if first { // once per invite, not again for a result already recorded
			j.h.cfg.Observer.InviteFinished(j.inv.Sender, j.inv.Campaign, f.Status, time.Since(j.inv.EnqueuedAt))
		}
		return err
	})
	if err != nil {
		return err
	}
	j.log.Info().Str("status", f.Status.String()).Int("http_status", f.HTTPStatus).Msg("invite finished")
	if f.Status.Good() {
		return nil
	}
	if matrix.ErrCode(f.ErrCode).InviteBlocked() || alreadyInTheRoom(f) {
		// The invitee blocks invites, or (a 3PID invite of an address bound
		// to a member, resolve-first off) is in the room already: that
		// person's answer, never the campaign's, so the breaker does not
		// count it.
		return fmt.Errorf("invite ended %s: %w", f.Status, asynq.SkipRetry)
	}
	if paused, err := j.h.breaker.failed(wctx, j.h.ledger, j.p.Campaign, f); err != nil {
		j.log.Warn().Err(err).Msg("campaign breaker")
	} else if paused {
		j.log.Error().Str("status", f.Status.String()).Msg("campaign paused: its first invites all failed the same way")
	}
	return fmt.Errorf("invite ended %s: %w", f.Status, asynq.SkipRetry)
}

// alreadyInTheRoom: the final answer was 403 "… is already in the room."
// (matrix.AlreadyJoined).
func alreadyInTheRoom(f record.Final) bool {
	return matrix.AlreadyJoined(matrix.Outcome{HTTPStatus: f.HTTPStatus, ErrCode: matrix.ErrCode(f.ErrCode),
		Status: matrix.Status{Code: f.Status, Message: f.Error}})
}

// finalWriteWindow is how long a final result keeps being written while
// Redis cannot be reached (a restart, a failover). Giving up sooner hands the
// task back with the server's answer unrecorded: the next delivery finds the
// request still "in flight", re-checks and sends it again, which on a server
// without the idempotent PUT form (anything but Synapse, or NoTxnID) invites
// and emails the invitee a second time. go-redis alone gives up after a few
// reconnection attempts within a second, shorter than a Redis restart.
const finalWriteWindow = 30 * time.Second

// untilWritten runs write until it succeeds, fails for a reason other than
// a Redis that is unreachable or not ready yet (an error answer, a closed
// client), or ctx ends, waiting a little longer between tries (50 ms,
// doubling up to 1 s).
func untilWritten(ctx context.Context, write func(context.Context) error) error {
	wait := 50 * time.Millisecond
	for {
		err := write(ctx)
		if err == nil || !rdb.Unavailable(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}
