package rdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/tasks"
)

// A campaign's invites go to one lane of its sender (tasks/queue.go): the
// campaign meta keeps it as lane (the lane's name), lane_sender and
// priority. The lane is chosen when the campaign is first enqueued, or
// enqueued again with another priority or sender: high and low have one
// lane each; a normal campaign gets the normal lane with the least work in
// asynq (pending, active, scheduled, retrying), so campaigns of one sender
// enqueued one after another share its turns rather than queue behind each
// other. Invites queued before a change of lane stay where they are.

// laneScript returns the campaign's lane, choosing it when needed.
//
// KEYS[1] -> the campaign's meta
// KEYS[2..] -> for each normal lane in order, asynq's pending list, active
//
//	list, scheduled set and retry set of its queue (4 keys per lane)
//
// ARGV[1] -> the sender
// ARGV[2] -> the priority (high, normal or low; "" keeps the campaign's,
//
//	normal for a new one)
//
// ARGV[3..] -> the normal lanes' names, in order
//
// Returns the lane's name.
var laneScript = newScript("lane", `
local m = redis.call('HMGET', KEYS[1], 'lane', 'lane_sender', 'priority')
local p = ARGV[2]
if p == '' then p = m[3] or 'normal' end
if m[1] and m[2] == ARGV[1] and m[3] == p then return m[1] end
local lane = p
if p == 'normal' then
  local best = nil
  for i = 3, #ARGV do
    local k = 2 + (i - 3) * 4
    local work = redis.call('LLEN', KEYS[k]) + redis.call('LLEN', KEYS[k + 1]) + redis.call('ZCARD', KEYS[k + 2]) +
      redis.call('ZCARD', KEYS[k + 3])
    if best == nil or work < best then best, lane = work, ARGV[i] end
  end
end
redis.call('HSET', KEYS[1], 'lane', lane, 'lane_sender', ARGV[1], 'priority', p)
return lane
`)

// CampaignQueue is the asynq queue under base that the campaign's invites
// of sender go to at priority p, choosing the campaign's lane when it has
// none yet (or the priority or sender changed). An empty p keeps the
// campaign's priority (normal for a new campaign).
func (c *Client) CampaignQueue(ctx context.Context, base, campaign, sender string, p tasks.Priority) (string, error) {
	keys := []string{c.k.meta(campaign)}
	args := []any{sender, string(p)}
	for i := range tasks.NormalLanes {
		q := tasks.LaneQueue(base, sender, tasks.NormalLane(i))
		keys = append(keys, asynqList(q, asynqPending), asynqList(q, "active"), asynqZset(q, asynqScheduled), asynqZset(q, asynqRetry))
		args = append(args, tasks.NormalLane(i))
	}
	lane, err := laneScript.Run(ctx, c.rdb, keys, args...).Text()
	if err != nil {
		return "", fmt.Errorf("choose the lane of campaign %q: %w", campaign, err)
	}
	return tasks.LaneQueue(base, sender, lane), nil
}

// QueueOfCampaign is the asynq queue under base that the campaign's
// invites went to last: its lane's, or base itself for a campaign enqueued
// before lanes existed (or not found).
func (c *Client) QueueOfCampaign(ctx context.Context, base, campaign string) (string, error) {
	m, err := c.rdb.HMGet(ctx, c.k.meta(campaign), "lane", "lane_sender").Result()
	if err != nil {
		return "", fmt.Errorf("read the lane of campaign %q: %w", campaign, err)
	}
	lane, _ := m[0].(string)
	sender, _ := m[1].(string)
	if lane == "" || sender == "" {
		return base, nil
	}
	return tasks.LaneQueue(base, sender, lane), nil
}

// CampaignLane is the campaign's lane and priority as its meta says
// (empty when it was enqueued before lanes existed).
func (c *Client) CampaignLane(ctx context.Context, campaign string) (lane string, p tasks.Priority, err error) {
	m, err := c.rdb.HMGet(ctx, c.k.meta(campaign), "lane", "priority").Result()
	if err != nil {
		return "", "", fmt.Errorf("read the lane of campaign %q: %w", campaign, err)
	}
	lane, _ = m[0].(string)
	pr, _ := m[1].(string)
	return lane, tasks.Priority(pr), nil
}

// QueuesUnder lists the asynq queues asynq knows (its asynq:queues set) that
// are base or one of its lanes.
func (c *Client) QueuesUnder(ctx context.Context, base string) ([]string, error) {
	all, err := c.rdb.SMembers(ctx, asynqQueues).Result()
	if err != nil {
		return nil, fmt.Errorf("read asynq's queues: %w", err)
	}
	var out []string
	for _, q := range all {
		if q == base || strings.HasPrefix(q, base+":") {
			out = append(out, q)
		}
	}
	slices.Sort(out)
	return out, nil
}

// QueuesIdle reports whether every one of queues has no task pending,
// active, scheduled or retrying (asynq's lists and sets, read in one round
// trip). A queue asynq has never seen is idle.
func (c *Client) QueuesIdle(ctx context.Context, queues []string) (bool, error) {
	pipe := c.rdb.Pipeline()
	var counts []*redis.IntCmd
	for _, q := range queues {
		counts = append(counts, pipe.LLen(ctx, asynqList(q, asynqPending)), pipe.LLen(ctx, asynqList(q, "active")),
			pipe.ZCard(ctx, asynqZset(q, asynqScheduled)), pipe.ZCard(ctx, asynqZset(q, asynqRetry)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("read the queues' sizes: %w", err)
	}
	for _, n := range counts {
		if n.Val() > 0 {
			return false, nil
		}
	}
	return true, nil
}

// WakeRetrying makes every task in the retry sets of queues due now
// (asynq's RunAllRetryTasks, queue by queue; a queue asynq does not know is
// skipped): invites held by a pause that ended go out at once, those
// waiting for a retry find their not_before in the record and wait on. It
// tries every queue, and returns how many tasks it woke and the first
// error.
func (c *Client) WakeRetrying(ctx context.Context, queues []string) (int, error) {
	in := asynq.NewInspectorFromRedisClient(c.rdb) // not closed: it would close c's client
	n := 0
	var first error
	for _, q := range queues {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		k, err := in.RunAllRetryTasks(q)
		n += k
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) && first == nil {
			first = fmt.Errorf("wake the retrying tasks of queue %s: %w", q, err)
		}
	}
	return n, first
}
