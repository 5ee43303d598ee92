package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// Handler executes invite:3pid tasks: each delivery runs the invite's job —
// attempts, waits and rate-limit pauses per the retry policy — until it has a
// final status, which it persists. Waits up to Config.InProcessWait are slept
// holding the task, for precision; longer ones hand the task back to asynq as
// a scheduled retry that does not count as a failure.
type Handler struct {
	cfg      Config
	ledger   Ledger
	senders  map[string]*sender
	backoff  []time.Duration  // the sender back-off's waits (backoff.go)
	resolver *matrix.Resolver // resolve-first's lookups (resolve.go)
	breaker  *breaker
	stopping <-chan struct{}
	holding  holding // the invites this process is delivering (takeover.go)
}

// ProcessTask implements asynq.Handler.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	id, _ := asynq.GetTaskID(ctx)
	d, err := tasks.DecodeDelivery(id, t.Payload())
	if err != nil {
		h.cfg.Logger.Error().Err(err).Msg("dropping an undecodable invite task")
		return fmt.Errorf("undecodable invite: %v: %w", err, asynq.SkipRetry)
	}
	log := h.cfg.Logger.With().Str("task_id", d.TaskID()).Str("campaign", d.Campaign).Logger()
	ctx = log.WithContext(ctx)
	snd, ok := h.senders[d.Sender]
	if !ok {
		// Not ours (only in the base queue): it waits for a worker serving it.
		log.Debug().Str("sender", d.Sender).Msg("no such sender profile here; handed back")
		return handBack(unservedDelay)
	}

	// One delivery of an invite at a time in this process: a takeover's
	// re-delivery waits while the delivery it replaced still runs here.
	if !h.holding.take(d.Key) {
		log.Debug().Msg("this invite is being delivered here already; handed back")
		return &handBackError{after: time.Second, recorded: true}
	}
	defer h.holding.release(d.Key)
	inv, p, err := h.begin(ctx, d, snd, id)
	var paused *record.PausedError
	switch {
	case errors.Is(err, rdb.ErrDone), errors.Is(err, rdb.ErrStale), errors.Is(err, rdb.ErrTaken), errors.Is(err, rdb.ErrGone):
		log.Info().Msg("not sent again: " + err.Error())
		return nil
	case errors.As(err, &paused):
		log.Debug().Str("pause", string(paused.Scope)).Msg("held by a pause")
		return &handBackError{after: heldDelay(paused.Since), recorded: true}
	case errors.Is(err, tasks.ErrInvalid):
		// A reference whose record does not make a valid invite of its key.
		log.Error().Err(err).Msg("dropping an invite whose record is not its task's")
		return fmt.Errorf("invite record: %v: %w", err, asynq.SkipRetry)
	case err != nil:
		return err // Redis trouble: asynq retries the delivery.
	}
	// (Begin may have marked the first request in flight: markedAt.)
	q, _ := asynq.GetQueueName(ctx)
	j := &job{h: h, inv: inv, p: p, log: log, snd: snd, markedAt: time.Now(), priority: tasks.QueuePriority(h.cfg.Queue, q)}
	err = j.run(ctx)
	var hb *handBackError
	if errors.As(err, &hb) && !hb.recorded {
		// Show the invite as retrying while asynq holds it.
		if serr := h.ledger.Attempt(ctx, inv, p, record.StateRetrying, record.AttemptUpdate{}); serr != nil {
			return serr
		}
	}
	return err
}

// begin starts the delivery (Ledger.Begin, or BeginRef for a task that
// carries only a reference to its record) and returns the invite. Begin
// reserves the first request's slot on the 3PID gate unless resolve-first
// may send it on the other path (resolve.go): with an identity server
// known before the record is read, the sender's or the task's.
func (h *Handler) begin(ctx context.Context, d tasks.Delivery, snd *sender, taskID string) (tasks.Invite, record.Progress, error) {
	idServer := snd.IDServer
	if d.Whole != nil && d.Whole.IDServer != "" {
		idServer = d.Whole.IDServer
	}
	opts := rdb.BeginOptions{Send: idServer != "" && h.cfg.NoLookup, FinalOn5xx: h.cfg.FinalOn5xx}
	if taskID != "" && taskID != d.TaskID() {
		opts.TaskID = taskID // a takeover's re-delivery
	}
	if d.Whole == nil {
		p, inv, err := h.ledger.BeginRef(ctx, d.InviteRef, opts)
		return inv, p, err
	}
	p, err := h.ledger.Begin(ctx, *d.Whole, opts)
	return *d.Whole, p, err
}

// Held invites come back to look at their pause after a delay that grows
// with the pause's age, so that a pause of thousands of invites costs Redis
// little while it lasts; ending a pause (mxinvite resume, or a worker that
// finds a new token) wakes them at once.
const (
	minHeldDelay = 2 * time.Second
	maxHeldDelay = 5 * time.Minute
)

// heldDelay is when a held invite is delivered again.
func heldDelay(since time.Time) time.Duration {
	return min(max(time.Since(since)/4, minHeldDelay), maxHeldDelay)
}

// unservedDelay: an invite of the base queue naming a sender this worker
// does not serve comes back then (here, or to a worker serving it).
const unservedDelay = 30 * time.Second
