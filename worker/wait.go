package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/record"
)

// handBackError returns a task to asynq to run again after a delay that is
// part of the invite's schedule (a long retry wait, a long rate-limit pause,
// or a shutdown during a wait): not a failure, so asynq does not count it
// against the task's MaxRetry.
type handBackError struct {
	after time.Duration
	// recorded: the record already says "retrying" (the job wrote it with
	// the attempt), so the handler need not write it again.
	recorded bool
}

func (e *handBackError) Error() string {
	return fmt.Sprintf("waiting %s before the next attempt", e.after.Round(time.Millisecond))
}

func handBack(after time.Duration) error {
	if after < 0 {
		after = 0
	}
	return &handBackError{after: after}
}

// isFailure is asynq's Config.IsFailure: hand-backs are the schedule working,
// not failures.
func isFailure(err error) bool {
	var hb *handBackError
	return !errors.As(err, &hb)
}

// retryDelay is asynq's Config.RetryDelayFunc. For a hand-back it returns the
// wait the job asked for. asynq stores retry times in whole seconds (rounded
// down), so the task may come back up to a second early: the record's
// not_before makes the next delivery sleep the rest in-process, which keeps
// waits exact. Other errors (Redis trouble while recording) retry on the
// policy's waits.
func (h *Handler) retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var hb *handBackError
	if errors.As(err, &hb) {
		return hb.after
	}
	return h.cfg.Policy.Wait(n)
}

// sleep waits d holding the task; if the worker starts shutting down first,
// it hands the task back with the time that remains, so shutdown is quick
// and the wait is still honoured.
func (j *job) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if d > j.h.cfg.InProcessWait {
		return handBack(d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	start := time.Now()
	select {
	case <-t.C:
		return nil
	case <-j.h.stopping:
		return handBack(d - time.Since(start))
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sleepUntil waits until t (a zero t means no wait).
func (j *job) sleepUntil(ctx context.Context, t time.Time) error {
	if t.IsZero() {
		return nil
	}
	return j.sleep(ctx, time.Until(t))
}

// waitForGate waits for the sender's shared rate-limit gate, then marks the
// request as going out; a pause longer than InProcessWait hands the task
// back without holding a slot. A slot is reserved only shortly before it
// comes, and a 429 that arrives while the job sleeps until its slot holds it
// back again.
func (j *job) waitForGate(ctx context.Context) error {
	place := j.snd.line.Join(j.priority)
	defer place.Leave()
	for {
		select {
		case <-j.h.stopping:
			return handBack(0)
		default:
		}
		s, err := j.h.ledger.Acquire(ctx, j.inv, j.p, j.h.cfg.InProcessWait)
		if err != nil {
			return err
		}
		if s.Paused {
			return j.hold(ctx, record.AttemptUpdate{})
		}
		j.trouble = s.Trouble
		if s.Sent {
			j.reservedAt, j.sentAt, j.markedAt = s.At, s.At, time.Now()
			return nil
		}
		if s.Later || s.Reserved {
			j.log.Debug().Int64("wait_ms", s.Wait.Milliseconds()).Bool("reserved", s.Reserved).Msg("waiting for the sender's gate")
		}
		if s.Later {
			if err := j.sleep(ctx, s.Wait+place.Delay()); err != nil {
				return err
			}
			continue
		}
		if !s.Reserved {
			return handBack(s.Wait)
		}
		j.reservedAt = s.At
		if err := j.sleep(ctx, s.Wait); err != nil {
			return err
		}
		blocked, paused, sentAt, err := j.h.ledger.Send(ctx, j.inv, j.p)
		if paused {
			return j.hold(ctx, record.AttemptUpdate{})
		}
		if err != nil {
			return err
		}
		if blocked == 0 {
			j.sentAt, j.markedAt = sentAt, time.Now()
			return nil
		}
		j.log.Debug().Int64("wait_ms", blocked.Milliseconds()).Msg("a 429 came while waiting for the slot; waiting again")
		if err := j.sleep(ctx, blocked); err != nil {
			return err
		}
	}
}
