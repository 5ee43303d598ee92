package rdb

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// cancelScript cancels one page of a campaign's invites: every record not
// sent yet (queued, scheduled, retrying, paused) is marked cancelled, and
// counted so. The record stays in its campaign (index and counters), so the
// campaign's counts still add up; a later registration of the same invite
// replaces it (registerScript).
//
// The tasks: a scheduled or retrying task (an entry of asynq's sorted sets)
// is deleted here, as asynq v0.26's deleteTaskCmd does for those states
// (the task hash and its entry in the state's sorted set). A pending task
// is left in asynq's list: removing it is an LREM that scans the whole list
// (asynq's DeleteTask does that, which made cancelling 200,000 invites take
// minutes); its delivery finds the record cancelled and ends at once,
// sending nothing (beginScript). An invite being sent ("active") is left
// alone.
//
// KEYS[1] -> the campaign's counts
// KEYS[2] -> asynq's scheduled set of the queue
// KEYS[3] -> asynq's retry set of the queue
// KEYS[2+2i..3+2i] -> per invite i (1-based): its record, its task's hash
//
//	(of the generation read before the call)
//
// ARGV[1] -> the campaign
// ARGV[2] -> the time of the cancel (RFC 3339)
// ARGV[3], ARGV[4] -> asynq's names of the scheduled and retry states
// ARGV[5] -> asynq's name of the pending state
// ARGV[6..] -> per invite: key, the generation its task hash is of, task ID
//
// Returns {cancelled, in flight, finished, already cancelled, tasks deleted,
// pending tasks left in asynq's list}.
var cancelScript = newScript("cancel", script(`
local campaign, at, s_sched, s_retry = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cancelled, inflight, finished, already, tasks, left = 0, 0, 0, 0, 0, 0
local moved = {}
local n = 0
for i = 6, #ARGV, 3 do
  n = n + 1
  local rec, tk = KEYS[2 + 2 * n], KEYS[3 + 2 * n]
  local cur = redis.call('HMGET', rec, 'state', 'generation', 'campaign')
  local state = cur[1]
  if not state or cur[3] ~= campaign then
    -- gone (expired) or another campaign's now: not this cancel's
  elseif state == ST.done then finished = finished + 1
  elseif state == ST.active then inflight = inflight + 1
  elseif state == ST.cancelled then already = already + 1
  else
    check('cancel', state, ST.cancelled)
    redis.call('HSET', rec, 'state', ST.cancelled, 'cancelled_at', at)
    moved[state] = (moved[state] or 0) + 1
    cancelled = cancelled + 1
    if tonumber(cur[2] or '0') == tonumber(ARGV[i + 1]) then
      local ts = redis.call('HGET', tk, 'state')
      if ts == s_sched or ts == s_retry then
        redis.call('ZREM', ts == s_sched and KEYS[2] or KEYS[3], ARGV[i + 2])
        redis.call('DEL', tk)
        tasks = tasks + 1
      elseif ts == ARGV[5] then
        left = left + 1
      end
    end
  end
end
for state, k in pairs(moved) do redis.call('HINCRBY', KEYS[1], 'state:' .. state, -k) end
if cancelled > 0 then redis.call('HINCRBY', KEYS[1], 'state:' .. ST.cancelled, cancelled) end
return {cancelled, inflight, finished, already, tasks, left}
`))

// cancelPage is how many invites one cancelScript call looks at: a few
// milliseconds of Redis time, so other clients are not held up.
const cancelPage = 1000

// Cancel stops a campaign's invites that have not been sent yet (see
// cancelScript), a page of cancelPage invites per round trip, so its time
// grows with the campaign. Their tasks are in the campaign's queue under
// base (QueueOfCampaign).
func (c *Client) Cancel(ctx context.Context, campaign, base string) (record.CancelStats, error) {
	var st record.CancelStats
	queue, err := c.QueueOfCampaign(ctx, base, campaign)
	if err != nil {
		return st, err
	}
	now := stamp(time.Now())
	err = c.walkIndex(ctx, campaign, cancelPage, func(entries []indexEntry) error {
		held, gens, err := c.heldEntries(ctx, campaign, entries)
		if err != nil || len(held) == 0 {
			return err
		}
		rkeys := []string{c.k.counts(campaign), asynqZset(queue, asynqScheduled), asynqZset(queue, asynqRetry)}
		args := []any{campaign, now, asynqScheduled, asynqRetry, asynqPending}
		for i, e := range held {
			id := tasks.TaskIDOf(e.key, gens[i])
			rkeys = append(rkeys, c.k.invite(e.key), asynqTask(queue, id))
			args = append(args, e.key, gens[i], id)
		}
		res, err := cancelScript.Run(ctx, c.rdb, rkeys, args...).Int64Slice()
		if err == nil && len(res) != 6 {
			err = fmt.Errorf("%d values in the reply, want 6", len(res))
		}
		if err != nil {
			return err
		}
		st.Cancelled += int(res[0])
		st.InFlight += int(res[1])
		st.Finished += int(res[2])
		st.AlreadyCancelled += int(res[3])
		st.TasksLeft += int(res[5])
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("cancel campaign %q: %w", campaign, err)
	}
	return st, nil
}
