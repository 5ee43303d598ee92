package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// CancelStats says what Cancel did.
type CancelStats struct {
	// Cancelled invites had their tasks removed and are now "cancelled".
	Cancelled int `json:"cancelled"`
	// InFlight invites were being sent and could not be cancelled.
	InFlight int `json:"in_flight"`
	// Finished invites keep their results.
	Finished int `json:"finished"`
	// AlreadyCancelled invites were cancelled by an earlier Cancel.
	AlreadyCancelled int `json:"already_cancelled"`
}

// Cancel stops a campaign's invites that have not been sent yet (queued,
// scheduled, waiting to retry or paused): their records are marked
// cancelled (state StateCancelled), so they are still counted in the
// campaign and can be enqueued again later, and their scheduled and
// retrying tasks are deleted; a pending task stays in asynq's queue until a
// worker takes it, and its delivery ends at once without sending (see
// cancelScript). Finished results stay; an invite being sent right now
// cannot be recalled and is counted as in flight. It runs a page of
// cancelPage invites per round trip, so its time grows with the campaign.
func (p *Producer) Cancel(ctx context.Context, campaign string) (CancelStats, error) {
	var st CancelStats
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for first := 0; ; first += cancelPage {
		res, err := cancelScript.Run(ctx, p.store.rdb, nil, p.store.k.prefix, campaign, p.queue, first, cancelPage, now).Int64Slice()
		if err == nil && len(res) != 6 {
			err = fmt.Errorf("%d values in the reply, want 6", len(res))
		}
		if err != nil {
			return st, fmt.Errorf("cancel campaign %q: %w", campaign, err)
		}
		st.Cancelled += int(res[1])
		st.InFlight += int(res[2])
		st.Finished += int(res[3])
		st.AlreadyCancelled += int(res[4])
		if res[0] < cancelPage {
			return st, nil
		}
	}
}

// cancelPage is how many invites one cancelScript call looks at: a few
// milliseconds of Redis time, so other clients are not held up.
const cancelPage = 1000

// RetryStats says what Retry did.
type RetryStats struct {
	// Enqueued invites were re-invited as a new generation.
	Enqueued int `json:"enqueued"`
	// Skipped invites had that status but could not be re-enqueued (pending again already).
	Skipped int `json:"skipped"`
}

// Retry re-enqueues the campaign's finished invites whose final status is
// code (never Success: a delivered invite is not sent again).
func (p *Producer) Retry(ctx context.Context, campaign string, code matrix.StatusCode) (RetryStats, error) {
	var st RetryStats
	if code == matrix.Success {
		return st, errors.New("retry: Success invites were delivered; re-invite them one by one with invite --again")
	}
	var todo []Result
	err := p.store.Results(ctx, campaign, func(r Result) error {
		if r.Final() && r.StatusCode == code {
			todo = append(todo, r)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	items := make([]BatchItem, len(todo))
	for i, r := range todo {
		items[i].Invite = tasks.Invite{
			Campaign: r.Campaign, RoomID: r.RoomID, Medium: tasks.Medium(r.Medium), Address: r.Address,
			IDServer: r.IDServer, Sender: r.Sender, EnqueuedAt: time.Now().UTC(),
		}
	}
	verdicts, err := p.enqueueParallel(ctx, items, EnqueueOptions{Again: true})
	if err != nil {
		return st, err
	}
	for _, v := range verdicts {
		if v == Registered {
			st.Enqueued++
		} else {
			st.Skipped++
		}
	}
	return st, nil
}

// retryParallel is how many batches of maxRegisterBatch invites Retry
// registers and enqueues at once: asynq enqueues one task per round trip,
// so a single loop waits on the network, not on Redis.
const retryParallel = 8

// enqueueParallel is EnqueueBatch over chunks of items, retryParallel at a
// time; verdicts are in the order of items. It returns the first error.
func (p *Producer) enqueueParallel(ctx context.Context, items []BatchItem, opts EnqueueOptions) ([]Verdict, error) {
	verdicts := make([]Verdict, len(items))
	errs := make(chan error, retryParallel)
	sem := make(chan struct{}, retryParallel)
	var wg sync.WaitGroup
	for start := 0; start < len(items) && len(errs) == 0; start += maxRegisterBatch {
		end := min(start+maxRegisterBatch, len(items))
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
