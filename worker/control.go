package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// cancelScript marks cancelled the record of an invite whose task was
// deleted before it ran. The record stays in its campaign (index and
// counters), so the campaign's counts still add up; a later registration of
// the same invite replaces it (see registerScript).
//
// ARGV[1] prefix, ARGV[2] invite key, ARGV[3] generation the deleted task
// had, ARGV[4] the time of the cancel (RFC 3339).
// Returns 1 when cancelled, 0 when the record moved on (active, done,
// cancelled, or a newer generation) and was left alone.
var cancelScript = redis.NewScript(luaMove + `
local p, key, gen = ARGV[1], ARGV[2], ARGV[3]
local rec = p .. ':invite:' .. key
local cur = redis.call('HMGET', rec, 'state', 'generation', 'campaign')
local state = cur[1]
if not state or state == 'done' or state == 'active' or state == 'cancelled' then return 0 end
if (cur[2] or '0') ~= gen then return 0 end
move(counts_of(p, cur[3]), rec, 'cancelled', state)
redis.call('HSET', rec, 'cancelled_at', ARGV[4])
return 1
`)

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

// Cancel removes a campaign's invites that have not been sent yet (queued,
// scheduled, waiting to retry or paused): their tasks are deleted and their
// records marked cancelled (state StateCancelled), so they are still counted
// in the campaign and can be enqueued again later. Finished results stay; an
// invite being sent right now cannot be recalled and is counted as in
// flight.
func (p *Producer) Cancel(ctx context.Context, campaign string) (CancelStats, error) {
	var st CancelStats
	var todo []Result
	err := p.store.Results(ctx, campaign, func(r Result) error {
		switch r.State {
		case StateDone:
			st.Finished++
		case StateActive:
			st.InFlight++
		case StateCancelled:
			st.AlreadyCancelled++
		default:
			todo = append(todo, r)
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	for _, r := range todo {
		err := p.inspector.DeleteTask(p.queue, r.TaskID)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound): // finished or never enqueued: the record decides
		case err != nil:
			st.InFlight++ // active now (asynq refuses to delete active tasks)
			continue
		}
		n, err := cancelScript.Run(ctx, p.store.rdb, nil, p.store.k.prefix, r.Key, r.Generation, now).Int()
		if err != nil {
			return st, fmt.Errorf("cancel invite %s: %w", r.Key, err)
		}
		if n == 1 {
			st.Cancelled++
		} else {
			st.InFlight++
		}
	}
	return st, nil
}

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
	verdicts, err := p.EnqueueBatch(ctx, items, EnqueueOptions{Again: true})
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
