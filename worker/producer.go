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
	// ProcessAt schedules the invite; zero means now.
	ProcessAt time.Time
	// Again re-invites an invite that already has a final result, as a new
	// generation (a new task ID). Without it such an invite is AlreadyDone.
	Again bool
}

// Enqueue registers and enqueues one invite. The verdict says what happened:
// Registered (enqueued), AlreadyPending or AlreadyDone (nothing enqueued).
func (p *Producer) Enqueue(ctx context.Context, inv tasks.Invite, opts EnqueueOptions) (Verdict, error) {
	scheduled := opts.ProcessAt.After(time.Now())
	v, inv, err := p.store.Register(ctx, inv, scheduled, opts.Again)
	if err != nil {
		return 0, err
	}
	if v == AlreadyPending {
		// The record says pending; make sure its task exists (a producer
		// that died between registering and enqueueing leaves none).
		if _, err := p.inspector.GetTaskInfo(p.queue, inv.TaskID()); err == nil || !errors.Is(err, asynq.ErrTaskNotFound) {
			return v, nil
		}
	} else if v != Registered {
		return v, nil
	}
	taskOpts := []asynq.Option{asynq.Queue(p.queue)}
	if scheduled {
		taskOpts = append(taskOpts, asynq.ProcessAt(opts.ProcessAt))
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
