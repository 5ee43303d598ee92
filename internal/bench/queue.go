package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// setupWorkers is the parallelism of untimed setup (enqueueing before a
// clock starts): it only has to be quick.
const setupWorkers = 16

// idlePoll is how often a clock looks whether the queue is idle: the
// resolution of the throughput figures.
const idlePoll = 10 * time.Millisecond

// address is the invitee of row or invite i, in every scenario.
func address(i int) string { return fmt.Sprintf("user%d@example.org", i) }

// makeInvites builds n email invites into the simulator's default room;
// senderOf names the sender profile of invite i (nil: the default one).
func makeInvites(n int, campaign string, senderOf func(i int) string) ([]tasks.Invite, error) {
	return makeInvitesFrom(0, n, campaign, senderOf)
}

// makeInvitesFrom is makeInvites with the addresses from address(from) on
// (invite i is still sender i's).
func makeInvitesFrom(from, n int, campaign string, senderOf func(i int) string) ([]tasks.Invite, error) {
	invs := make([]tasks.Invite, n)
	for i := range invs {
		in := tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: address(from + i)}
		if senderOf != nil {
			in.Sender = senderOf(i)
		}
		inv, err := tasks.NewInvite(in)
		if err != nil {
			return nil, err
		}
		invs[i] = inv
	}
	return invs, nil
}

// enqueueInvites registers and enqueues invites the way every mxinvite
// command does (producer.Producer), before a clock starts.
func enqueueInvites(ctx context.Context, conn redis.UniversalClient, prefix, queue string, invs []tasks.Invite) error {
	p := producer.New(rdb.New(conn, rdb.Options{Prefix: prefix}), queue)
	return parallel(ctx, len(invs), setupWorkers, func(i int) error {
		v, err := p.Enqueue(ctx, invs[i], producer.Options{})
		if err == nil && v != record.Registered {
			err = fmt.Errorf("invite %s: %s, want registered (is Redis empty?)", invs[i].Address, v)
		}
		return err
	})
}

// enqueueTasks enqueues the invites' tasks with a bare asynq client, for
// the asynq baseline (no mxinvite record).
func enqueueTasks(ctx context.Context, c *asynq.Client, queue string, invs []tasks.Invite) error {
	return parallel(ctx, len(invs), setupWorkers, func(i int) error {
		t, err := invs[i].Task(asynq.Queue(queue))
		if err != nil {
			return err
		}
		_, err = c.EnqueueContext(ctx, t)
		return err
	})
}

// waitIdle returns once the queue and its lanes (tasks.SenderQueues) have
// nothing pending, active, scheduled or retrying, or fails after limit. It
// reads the sizes in one pipeline (rdb.QueuesIdle), not through asynq's
// Inspector: GetQueueInfo runs a script per lane that samples memory, and
// polling 500 lanes that way every idlePoll loaded the Redis and the CPU
// the scenario measures (P4's lateness).
func waitIdle(ctx context.Context, conn redis.UniversalClient, queue string, limit time.Duration) error {
	store := rdb.New(conn, rdb.Options{})
	err := pollUntil(ctx, limit, func() (bool, error) {
		queues, err := store.QueuesUnder(ctx, queue)
		if err != nil {
			return false, err
		}
		return store.QueuesIdle(ctx, queues)
	})
	if err != nil {
		return fmt.Errorf("queue %q: %w", queue, err)
	}
	return nil
}

// pollUntil calls done every idlePoll until it reports true, or fails
// after limit. Errors of done are retried until then, and the last one is
// reported.
func pollUntil(ctx context.Context, limit time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := done()
		if err == nil && ok {
			return nil
		}
		lastErr = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(idlePoll):
		}
	}
	if lastErr != nil {
		return fmt.Errorf("not done after %s: %w", limit, lastErr)
	}
	return fmt.Errorf("not done after %s", limit)
}

// parallel calls fn(0) … fn(n-1) from the given number of goroutines and
// returns the first error; after an error the remaining calls are skipped.
func parallel(ctx context.Context, n, goroutines int, fn func(i int) error) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed() {
					return
				}
				err := fn(i)
				if err == nil {
					err = ctx.Err()
				}
				if err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// queueState describes what asynq holds in queue ("" = tasks.DefaultQueue),
// for notes on runs that did not finish.
func (e *env) queueState(queue string) string {
	if queue == "" {
		queue = tasks.DefaultQueue
	}
	in := asynq.NewInspector(e.redisOpt())
	defer in.Close()
	qi, err := in.GetQueueInfo(queue)
	if err != nil {
		return "queue " + queue + ": " + err.Error()
	}
	return fmt.Sprintf("queue %s: %d pending, %d active, %d scheduled, %d retry, %d archived",
		queue, qi.Pending, qi.Active, qi.Scheduled, qi.Retry, qi.Archived)
}
