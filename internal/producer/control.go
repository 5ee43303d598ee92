package producer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// Cancel stops a campaign's invites that have not been sent yet (queued,
// scheduled, waiting to retry or paused): their records are marked
// cancelled, so they are still counted in the campaign and can be enqueued
// again later, and their scheduled and retrying tasks are deleted; a
// pending task stays in asynq's queue until a worker takes it, and its
// delivery ends at once without sending. Finished results stay; an invite
// being sent right now cannot be recalled and is counted as in flight.
func (p *Producer) Cancel(ctx context.Context, campaign string) (record.CancelStats, error) {
	return p.store.Cancel(ctx, campaign, p.queue)
}

// Purge deletes finished invites (see rdb.Client.Purge) and the tasks they
// left in the producer's queue.
func (p *Producer) Purge(ctx context.Context, opts record.PurgeOptions) (record.PurgeStats, error) {
	return p.store.Purge(ctx, p.queue, opts)
}

// Retry re-enqueues the campaign's finished invites whose final status is
// code (never Success: a delivered invite is not sent again).
func (p *Producer) Retry(ctx context.Context, campaign string, code matrix.StatusCode) (record.RetryStats, error) {
	var st record.RetryStats
	if code == matrix.Success {
		return st, errors.New("retry: Success invites were delivered; re-invite them one by one with invite --again")
	}
	// Every invite is read before any is re-enqueued: re-registering one
	// moves it to the end of the campaign's index, which the walk pages
	// through by rank. The campaign's counters give the size to expect:
	// growing a slice of 200,000 invites by appends cost more CPU than the
	// walk's reads (a profile of `retry` on 200,000 invites: 1.9 of 6.5 s).
	n, err := p.store.Counts(ctx, campaign)
	if err != nil {
		return st, err
	}
	items := make([]Item, 0, n.Statuses[code.String()])
	err = p.store.Results(ctx, campaign, func(r record.Result) error {
		if r.Final() && r.StatusCode == code {
			items = append(items, Item{Invite: tasks.Invite{
				Campaign: r.Campaign, RoomID: r.RoomID, Medium: tasks.Medium(r.Medium), Address: r.Address,
				IDServer: r.IDServer, Sender: r.Sender, EnqueuedAt: time.Now().UTC(),
			}})
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	verdicts, err := p.enqueueParallel(ctx, items, Options{Again: true})
	if err != nil {
		return st, err
	}
	for _, v := range verdicts {
		if v == record.Registered {
			st.Enqueued++
		} else {
			st.Skipped++
		}
	}
	return st, nil
}

// retryParallel is how many batches of retryBatch invites Retry registers
// and enqueues at once: asynq enqueues one task per round trip, so a single
// loop waits on the network, not on Redis.
const (
	retryParallel = 8
	retryBatch    = 1000
)

// enqueueParallel is EnqueueBatch over chunks of items, retryParallel at a
// time; verdicts are in the order of items. It returns the first error.
func (p *Producer) enqueueParallel(ctx context.Context, items []Item, opts Options) ([]record.Verdict, error) {
	verdicts := make([]record.Verdict, len(items))
	errs := make(chan error, retryParallel)
	sem := make(chan struct{}, retryParallel)
	var wg sync.WaitGroup
	for start := 0; start < len(items) && len(errs) == 0; start += retryBatch {
		end := min(start+retryBatch, len(items))
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			v, err := p.EnqueueBatch(ctx, items[start:end], opts)
			if err != nil {
				select {
				case errs <- err:
				default:
				}
				return
			}
			copy(verdicts[start:end], v)
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
		return verdicts, nil
	}
}

// Resume ends a pause of a sender or a campaign and wakes the invites it
// held, which then go out (those of a sender whose token is still dead are
// paused again by the first 401). It returns record.ErrNotPaused when
// nothing was paused.
func (p *Producer) Resume(ctx context.Context, scope record.PauseScope, name string) (woken int, err error) {
	ok, err := p.store.ClearPause(ctx, scope, name)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%s %q: %w", scope, name, record.ErrNotPaused)
	}
	n, err := WakeHeld(ctx, p.store, p.queue)
	if err != nil {
		return n, fmt.Errorf("%s %q resumed, but waking its invites failed (they wake by themselves within minutes): %w", scope, name, err)
	}
	return n, nil
}

// WakeHeld makes every retrying task of the base queue and its lanes due
// now (rdb.Client.WakeRetrying). It returns how many it woke.
func WakeHeld(ctx context.Context, store *rdb.Client, base string) (int, error) {
	queues, err := store.QueuesUnder(ctx, base)
	if err != nil {
		return 0, err
	}
	return store.WakeRetrying(ctx, queues)
}
