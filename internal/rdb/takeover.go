package rdb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// Takeover: a worker marks every invite it begins with its identity (the
// record's "owner" field, and {prefix}:worker:{id}:held). When its heartbeat
// lapses (liveness.go), another worker claims those still active and
// re-delivers each under the same record with a new task ID written into
// the record: the record then belongs to that delivery, and any other — the
// old task, once asynq's lease recovery gives it back — finds it done or
// taken (beginScript's "taken") and sends nothing. A worker claims its own
// invites the same way when it no longer holds them although Redis says it
// does (its writes were cut off by a Redis failover or restart).
//
// The record's "owner" is emptied by the claim: until the new delivery
// begins, no worker holds the invite, so if that delivery is lost the old
// task may still take it (an active record with no live owner is an
// orphan, beginScript).

// Candidate is what a takeover reads of an invite before claiming it.
type Candidate struct {
	Key      string
	State    record.State
	Owner    string
	Campaign string
	// TaskID is the task the record belongs to (its "task_id", else
	// tasks.TaskIDOf(key, generation)); Expect is what Claim compares: the
	// raw "task_id" and "begins" fields, so that a claim is refused if
	// another task took the record or a delivery began it since.
	TaskID, Expect string
}

// Candidates reads the invites' records ("" State: no record).
func (c *Client) Candidates(ctx context.Context, keys []string) ([]Candidate, error) {
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, key := range keys {
			cmds[i] = p.HMGet(ctx, c.k.invite(key), "state", "owner", "task_id", "generation", "campaign", "begins")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read invites to take over: %w", err)
	}
	out := make([]Candidate, len(keys))
	for i, cmd := range cmds {
		v := make([]string, 6)
		for j, x := range cmd.Val() {
			v[j], _ = x.(string)
		}
		var gen int
		_, _ = fmt.Sscan(v[3], &gen)
		cd := Candidate{Key: keys[i], State: record.State(v[0]), Owner: v[1], Expect: v[2] + "|" + v[5], TaskID: v[2], Campaign: v[4]}
		if cd.TaskID == "" {
			cd.TaskID = tasks.TaskIDOf(keys[i], gen)
		}
		out[i] = cd
	}
	return out, nil
}

// claimScript gives invites to new deliveries (see above).
//
// KEYS[1] -> {prefix}:workers
// KEYS[2] -> the held set the invites are listed in ({prefix}:worker:{id}:held)
// KEYS[2+i] -> per invite i: its record
//
// ARGV[1] -> the worker ID of that held set ("" for none: invites found
//
//	through asynq's stale leases, StaleLeases)
//
// ARGV[2] -> "1": that worker is the caller, alive, and no longer holds
//
//	these invites (cut off from its writes); else it must be dead
//
// ARGV[3] -> "1": also claim pending invites that are not active (their
//
//	task was left in asynq's active list with no one to run it); else
//	only active ones
//
// ARGV[4+3(i-1)..] -> per invite i: its key, its "task_id" and "begins"
//
//	fields as Candidates read them, joined by "|" (the claim is refused if
//	either changed since: another task took it, or a delivery began it),
//	the new delivery's task ID
//
// An invite is claimed when its record is pending, unchanged since it was
// read, and it is not held by a live worker: active with an empty owner,
// the held set's worker, or a dead one (or, with ARGV[3], not active).
// Claimed: task_id := the new ID, owner := "", "takeovers" + 1 (the state
// and the "inflight" mark stay: the new delivery's begin turns a request
// that was in flight into an ambiguous attempt). Every invite given is
// removed from the held set; a dead worker whose held set is then empty is
// dropped from {prefix}:workers.
//
// Returns one integer per invite: 1 claimed, 0 not; or {"alive"} when the
// held set's worker is not the caller and is alive (nothing written).
var claimScript = newScript("claim", script(`
local now = now_ms()
local function alive(w)
  if not w or w == '' then return false end
  local s = redis.call('ZSCORE', KEYS[1], w)
  return s and tonumber(s) >= now
end
local from, self, idle = ARGV[1], ARGV[2] == '1', ARGV[3] == '1'
if not self and alive(from) then return {'alive'} end
local out = {}
local i, n = 4, 0
while i + 2 <= #ARGV do
  n = n + 1
  local rec, key, expect, tid = KEYS[2 + n], ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local cur = redis.call('HMGET', rec, 'state', 'owner', 'task_id', 'begins')
  local st, owner = cur[1], cur[2] or ''
  local ok = st and st ~= ST.done and st ~= ST.cancelled and ((cur[3] or '') .. '|' .. (cur[4] or '')) == expect
  if ok and st == ST.active then
    ok = owner == '' or owner == from or not alive(owner)
  elseif ok then
    ok = idle
  end
  if ok then
    redis.call('HSET', rec, 'task_id', tid, 'owner', '')
    redis.call('HINCRBY', rec, 'takeovers', 1)
  end
  redis.call('SREM', KEYS[2], key)
  table.insert(out, ok and 1 or 0)
  i = i + 3
end
if not self and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], from)
end
return out
`))

// Claim is one invite to give to a new delivery.
type Claim struct {
	Key, Expect, NewTaskID string
}

// ErrWorkerAlive: the worker whose invites were to be taken over beats
// again.
var ErrWorkerAlive = fmt.Errorf("the worker is alive")

// ClaimFrom claims invites listed in worker's held set (see claimScript):
// self when worker is the caller itself, idle to claim pending invites that
// are not active too. It reports which were claimed.
func (c *Client) ClaimFrom(ctx context.Context, worker string, self, idle bool, claims []Claim) ([]bool, error) {
	keys := make([]string, 0, 2+len(claims))
	keys = append(keys, c.k.workers(), c.k.held(worker))
	args := make([]any, 0, 3+3*len(claims))
	args = append(args, worker, boolArg(self), boolArg(idle))
	for _, cl := range claims {
		keys = append(keys, c.k.invite(cl.Key))
		args = append(args, cl.Key, cl.Expect, cl.NewTaskID)
	}
	reply, err := claimScript.Run(ctx, c.rdb, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("claim invites of worker %s: %w", worker, err)
	}
	if len(reply) == 1 && reply[0] == "alive" {
		return nil, ErrWorkerAlive
	}
	if len(reply) != len(claims) {
		return nil, fmt.Errorf("claim invites of worker %s: %d answers for %d invites", worker, len(reply), len(claims))
	}
	out := make([]bool, len(claims))
	for i, x := range reply {
		out[i] = x == int64(1)
	}
	return out, nil
}

// recovering counts, per campaign, the active invites held by dead
// workers: what status shows as "recovering" (record.StateRecovering).
func (c *Client) recovering(ctx context.Context) (map[string]int, error) {
	dead, err := c.DeadWorkers(ctx)
	if err != nil || len(dead) == 0 {
		return nil, err
	}
	out := map[string]int{}
	for _, w := range dead {
		keys, err := c.Held(ctx, w)
		if err != nil {
			return nil, err
		}
		cands, err := c.Candidates(ctx, keys)
		if err != nil {
			return nil, err
		}
		for _, cd := range cands {
			if cd.State == record.StateActive && cd.Owner == w {
				out[cd.Campaign]++
			}
		}
	}
	return out, nil
}

// ClaimOrphans claims invites found through asynq's stale leases (see
// StaleLeases): pending, not held by a live worker, their record still the
// task's. It reports which were claimed.
func (c *Client) ClaimOrphans(ctx context.Context, claims []Claim) ([]bool, error) {
	return c.ClaimFrom(ctx, "", false, true, claims)
}

// asynqLease is asynq v0.26's lease duration: a worker's heartbeat extends
// the leases of the tasks it runs to now + asynqLease every 5 s.
const asynqLease = 30 * time.Second

// StaleLeases lists, per queue, the tasks whose asynq lease no one has
// extended for stale (asynq's {queue}:lease zset, scored by expiry in unix
// seconds, extended to now + 30 s every 5 s by the server running the
// task): their worker died (or lost Redis) before mxinvite marked them —
// between asynq's dequeue and the delivery's begin. asynq itself gives them
// back only 30 s after the lease expires. The queues are read in one round
// trip (a worker serves a lane per sender); those with none are left out.
func (c *Client) StaleLeases(ctx context.Context, queues []string, stale time.Duration) (map[string][]string, error) {
	max := strconv.FormatInt(time.Now().Add(asynqLease-stale).Unix(), 10)
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(queues))
	for i, q := range queues {
		cmds[i] = pipe.ZRangeByScore(ctx, asynqZset(q, "lease"), &redis.ZRangeBy{Min: "-inf", Max: max})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("read the stale leases of %d queues: %w", len(queues), err)
	}
	out := map[string][]string{}
	for i, q := range queues {
		if ids := cmds[i].Val(); len(ids) > 0 {
			out[q] = ids
		}
	}
	return out, nil
}
