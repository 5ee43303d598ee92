package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/tasks"
)

// Producer enqueues invites the way every mxinvite command does: it
// registers each invite in the results store first, so an invite already
// queued or done is counted instead of sent again, then enqueues its task.
// It is safe for concurrent use (asynq's client is goroutine-safe).
type Producer struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	store     *Store
	queue     string
}

// NewProducer returns a producer writing to queue ("" = tasks.DefaultQueue)
// under the key prefix ("" = "mxinvite"). It does not own rdb.
func NewProducer(rdb redis.UniversalClient, prefix, queue string) *Producer {
	if queue == "" {
		queue = tasks.DefaultQueue
	}
	return &Producer{
		client:    asynq.NewClientFromRedisClient(rdb),
		inspector: asynq.NewInspectorFromRedisClient(rdb),
		store:     NewStore(rdb, prefix, 0),
		queue:     queue,
	}
}

// Store returns the producer's results store.
func (p *Producer) Store() *Store { return p.store }

// EnqueueOptions are per-invite enqueue choices.
type EnqueueOptions struct {
	// ProcessAt schedules the invite; zero means now. In EnqueueBatch it is
	// the default for items without a ProcessAt of their own.
	ProcessAt time.Time
	// Again re-invites an invite that already has a final result, as a new
	// generation (a new task ID). Without it such an invite is AlreadyDone.
	Again bool
	// ImportRun tags the registrations with an import run ID (see
	// RegisterOptions.ImportRun): a second registration of the same invite
	// by the same run is DuplicateInRun, and nothing is enqueued for it.
	ImportRun string
}

// BatchItem is one invite of EnqueueBatch.
type BatchItem struct {
	// Invite is the invite, valid and normalised (tasks.NewInvite).
	Invite tasks.Invite
	// ProcessAt schedules this invite; zero means EnqueueOptions.ProcessAt.
	ProcessAt time.Time
}

// Enqueue registers and enqueues one invite. The verdict says what happened:
// Registered (enqueued), AlreadyPending, AlreadyDone or DuplicateInRun
// (nothing enqueued).
func (p *Producer) Enqueue(ctx context.Context, inv tasks.Invite, opts EnqueueOptions) (Verdict, error) {
	verdicts, err := p.EnqueueBatch(ctx, []BatchItem{{Invite: inv}}, opts)
	if err != nil {
		return 0, err
	}
	return verdicts[0], nil
}

// EnqueueBatch registers the invites in one round trip to Redis, then
// enqueues the tasks of those registered, one asynq call each (asynq has no
// batch enqueue). It returns one verdict per item, in order. It stops at
// the first error, returning the verdicts of the items done by then (a
// prefix of items) and a *NotEnqueuedError counting the invites registered
// but not enqueued, which their next registration repairs (see below).
func (p *Producer) EnqueueBatch(ctx context.Context, items []BatchItem, opts EnqueueOptions) ([]Verdict, error) {
	regs, err := p.RegisterAndEnqueue(ctx, items, opts)
	verdicts := make([]Verdict, len(regs))
	for i := range regs {
		verdicts[i] = regs[i].Verdict
	}
	return verdicts, err
}

// RegisterAndEnqueue is EnqueueBatch returning each item's Registration:
// its verdict and, for an invite already known, the campaign holding it
// (Registration.HeldBy), which an importer reports instead of claiming the
// invite was scheduled. On an error it returns the registrations done
// before it (whose tasks are enqueued) and a *NotEnqueuedError counting
// the invites registered without a task: their records exist and are
// counted in their campaigns, and those whose task is missing are repaired
// by their next registration. An error before it returns nil.
func (p *Producer) RegisterAndEnqueue(ctx context.Context, items []BatchItem, opts EnqueueOptions) ([]Registration, error) {
	now := time.Now()
	regs := make([]Registration, len(items))
	for i, it := range items {
		at := it.ProcessAt
		if at.IsZero() {
			at = opts.ProcessAt
		}
		regs[i] = Registration{Invite: it.Invite, ProcessAt: at, Scheduled: at.After(now)}
	}
	if err := p.store.RegisterBatch(ctx, regs, RegisterOptions{Again: opts.Again, ImportRun: opts.ImportRun}); err != nil {
		return nil, notEnqueued(err, regs)
	}
	for i := range regs {
		v, err := p.enqueueRegistered(ctx, &regs[i])
		if err != nil {
			return regs[:i], notEnqueued(err, regs[i:])
		}
		regs[i].Verdict = v
	}
	return regs, nil
}

// NotEnqueuedError is EnqueueBatch's error: Err stopped it after Registered
// invites were registered (their records say queued) but not enqueued.
// Enqueueing the same invites again enqueues their tasks.
type NotEnqueuedError struct {
	Registered int
	Err        error
}

func (e *NotEnqueuedError) Error() string {
	if e.Registered == 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v (%d invites registered but not enqueued: enqueue them again to send them)", e.Err, e.Registered)
}

func (e *NotEnqueuedError) Unwrap() error { return e.Err }

// notEnqueued counts the registrations of regs left without a task.
func notEnqueued(err error, regs []Registration) error {
	n := 0
	for _, r := range regs {
		if r.Verdict == Registered {
			n++
		}
	}
	return &NotEnqueuedError{Registered: n, Err: err}
}

// enqueueRegistered enqueues the task of a registration that asks for it.
func (p *Producer) enqueueRegistered(ctx context.Context, r *Registration) (Verdict, error) {
	inv := r.Invite
	switch r.Verdict {
	case Registered:
	case AlreadyPending:
		// The record says pending; make sure its task exists (a producer
		// that died between registering and enqueueing leaves none).
		if _, err := p.inspector.GetTaskInfo(p.queue, inv.TaskID()); err == nil || !errors.Is(err, asynq.ErrTaskNotFound) {
			return r.Verdict, nil
		}
	default:
		// AlreadyDone, or DuplicateInRun: the same run registered it, and
		// its own registration enqueues the task (perhaps concurrently).
		return r.Verdict, nil
	}
	taskOpts := []asynq.Option{asynq.Queue(p.queue)}
	if r.Scheduled {
		taskOpts = append(taskOpts, asynq.ProcessAt(r.ProcessAt))
	}
	task, err := inv.Task(taskOpts...)
	if err != nil {
		return 0, err
	}
	if _, err := p.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return 0, fmt.Errorf("enqueue invite %s: %w", inv.TaskID(), err)
	}
	return Registered, nil
}
