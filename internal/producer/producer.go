package producer

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// Producer enqueues invites the way every mxinvite command does: it
// registers each invite first, so an invite already queued or done is
// counted instead of sent again, then enqueues its task. It is safe for
// concurrent use.
type Producer struct {
	inspector *asynq.Inspector
	store     *rdb.Client
	// queue is the base of the asynq queues: each invite goes to its
	// campaign's lane of its sender under it (tasks/queue.go).
	queue string
	shape taskShape // what the tasks carry (shape.go)
}

// New returns a producer writing through store to the lanes under the base
// queue ("" = tasks.DefaultQueue). It does not own store.
func New(store *rdb.Client, queue string) *Producer {
	if queue == "" {
		queue = tasks.DefaultQueue
	}
	return &Producer{
		inspector: asynq.NewInspectorFromRedisClient(store.Conn()),
		store:     store,
		queue:     queue,
	}
}

// Store is the producer's view of Redis, for reads (status, results).
func (p *Producer) Store() *rdb.Client { return p.store }

// Queue is the base of the asynq queues the producer writes to.
func (p *Producer) Queue() string { return p.queue }

// Options are per-invite enqueue choices.
type Options struct {
	// ProcessAt schedules the invite; zero means now. In EnqueueBatch it is
	// the default for items without a ProcessAt of their own.
	ProcessAt time.Time
	// Again re-invites an invite that already has a final result, as a new
	// generation (a new task ID). Without it such an invite is AlreadyDone.
	Again bool
	// ImportRun tags the registrations with an import run ID (see
	// record.RegisterOptions.ImportRun): a second registration of the same
	// invite by the same run is DuplicateInRun, and nothing is enqueued for it.
	ImportRun string
	// Priority is the campaign's claim on its sender's turns; empty keeps
	// the campaign's (normal for a new campaign).
	Priority tasks.Priority
}

// Item is one invite of EnqueueBatch.
type Item struct {
	// Invite is the invite, valid and normalised (tasks.NewInvite).
	Invite tasks.Invite
	// ProcessAt schedules this invite; zero means Options.ProcessAt.
	ProcessAt time.Time
}

// Enqueue registers and enqueues one invite. The verdict says what happened:
// Registered (enqueued), AlreadyPending, AlreadyDone or DuplicateInRun
// (nothing enqueued).
func (p *Producer) Enqueue(ctx context.Context, inv tasks.Invite, opts Options) (record.Verdict, error) {
	verdicts, err := p.EnqueueBatch(ctx, []Item{{Invite: inv}}, opts)
	if err != nil {
		return 0, err
	}
	return verdicts[0], nil
}

// EnqueueBatch registers the invites in one round trip to Redis, then
// enqueues the tasks of those registered in another (rdb.EnqueueTasks
// writes them as asynq's client would; asynq itself has no batch enqueue
// and takes a round trip per task). It returns one verdict per item, in
// order. On an error it returns the verdicts of the items done by then (a
// prefix of items, empty when the enqueue round trip failed) and a
// *NotEnqueuedError counting the invites registered but not enqueued,
// which their next registration repairs (see below).
func (p *Producer) EnqueueBatch(ctx context.Context, items []Item, opts Options) ([]record.Verdict, error) {
	regs, err := p.RegisterAndEnqueue(ctx, items, opts)
	verdicts := make([]record.Verdict, len(regs))
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
func (p *Producer) RegisterAndEnqueue(ctx context.Context, items []Item, opts Options) ([]record.Registration, error) {
	now := time.Now()
	regs := make([]record.Registration, len(items))
	for i, it := range items {
		at := it.ProcessAt
		if at.IsZero() {
			at = opts.ProcessAt
		}
		regs[i] = record.Registration{Invite: it.Invite, ProcessAt: at, Scheduled: at.After(now)}
	}
	if err := p.store.Register(ctx, regs, record.RegisterOptions{Again: opts.Again, ImportRun: opts.ImportRun}); err != nil {
		return nil, notEnqueued(err, regs)
	}
	if done, err := p.enqueueRegistered(ctx, regs, opts.Priority); err != nil {
		return regs[:done], notEnqueued(err, regs[done:])
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
func notEnqueued(err error, regs []record.Registration) error {
	n := 0
	for _, r := range regs {
		if r.Verdict == record.Registered {
			n++
		}
	}
	return &NotEnqueuedError{Registered: n, Err: err}
}

// enqueueRegistered enqueues, in one round trip, the tasks of the
// registrations that ask for one, each into its campaign's lane of its
// sender (rdb.CampaignQueue, asked once per campaign and sender):
// Registered, and AlreadyPending (the record says pending; a producer that
// died between registering and enqueueing left no task, and the write adds
// the missing one: EnqueueTasks leaves a task alone that exists in the
// lane, or in the base queue, where an earlier release put it). A repaired
// AlreadyPending becomes Registered; a Registered invite whose task exists
// already (an ID conflict) stays Registered. On an error, done is how many
// registrations (a prefix) have their tasks written.
func (p *Producer) enqueueRegistered(ctx context.Context, regs []record.Registration, priority tasks.Priority) (done int, err error) {
	var (
		ts     []rdb.AsynqTask
		idx    []int
		queues = map[[2]string]string{}
	)
	// The record holds the invite: the tasks carry only a reference to it,
	// unless a live worker cannot read one (shape.go).
	refs, err := p.shape.refs(ctx, p.store)
	if err != nil {
		return 0, err
	}
	for i := range regs {
		r := &regs[i]
		if r.Verdict != record.Registered && r.Verdict != record.AlreadyPending {
			// AlreadyDone, or DuplicateInRun: the same run registered it, and
			// its own registration enqueues the task (perhaps concurrently).
			continue
		}
		inv := r.Invite
		q, ok := queues[[2]string{inv.Campaign, inv.Sender}]
		if !ok {
			if q, err = p.store.CampaignQueue(ctx, p.queue, inv.Campaign, inv.Sender, priority); err != nil {
				return 0, err
			}
			queues[[2]string{inv.Campaign, inv.Sender}] = q
		}
		taskOpts := []asynq.Option{asynq.Queue(q)} // per task
		if r.Scheduled {
			taskOpts = append(taskOpts, asynq.ProcessAt(r.ProcessAt))
		}
		payload, err := payload(inv, refs)
		if err != nil {
			return 0, err
		}
		t, err := rdb.NewAsynqTask(tasks.TypeInvite3PID, payload, inv.TaskOptions(taskOpts...)...)
		if err != nil {
			return 0, fmt.Errorf("enqueue invite %s: %w", inv.TaskID(), err)
		}
		if r.Verdict == record.AlreadyPending && q != p.queue {
			t.AlsoIn = p.queue
		}
		ts = append(ts, t)
		idx = append(idx, i)
	}
	written, err := p.store.EnqueueTasks(ctx, ts) // on error, those of the calls made
	for n, ok := range written {
		if ok {
			regs[idx[n]].Verdict = record.Registered
		}
	}
	if err != nil {
		return idx[len(written)], err
	}
	return len(regs), nil
}
