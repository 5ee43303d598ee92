package rdb

import (
	"context"
	"fmt"
	"time"
)

// Worker liveness of mxinvite's own (asynq's lease takes a minute or more
// to give a dead worker's tasks back, and cannot be tuned): every worker
// process beats every WorkerBeat into {prefix}:workers, scored by until
// when the beat says it is alive (Redis's clock + WorkerTTL). A worker whose
// score is in the past is dead: another worker takes over the invites it
// held (takeover.go), and status shows them as "recovering".
const (
	// WorkerBeat is how often a worker says it is alive.
	WorkerBeat = time.Second
	// WorkerTTL is how long a beat keeps a worker alive: five beats, so a
	// busy machine, a busy Redis or a GC pause does not make a live worker
	// look dead (its in-flight invites would be re-delivered while it still
	// sends them: harmless with the PUT form, a second email without it),
	// and a dead one is known within WorkerTTL.
	WorkerTTL = 5 * time.Second
)

// heartbeatScript says a worker is alive until now + ttl (Redis's clock,
// the one every script compares with), and that it reads tasks that carry
// a reference to their record (tasks.InviteRef): a worker of an earlier
// release beats only into {prefix}:workers, and while one is alive
// producers send whole invites (ReadersOfRefs). Entries of workers gone
// for a minute are dropped from the second set here.
//
// KEYS[1] -> {prefix}:workers
// KEYS[2] -> {prefix}:workers:refs
// ARGV[1] -> the worker's ID
// ARGV[2] -> ttl (ms)
var heartbeatScript = newScript("heartbeat", stateless(`
local now = now_ms()
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - 60000))
return 1
`))

// readersOfRefsScript tells whether every live worker reads references
// (its beat is in both sets).
//
// KEYS[1] -> {prefix}:workers
// KEYS[2] -> {prefix}:workers:refs
//
// Returns 1, or 0 and the ID of a live worker that does not.
var readersOfRefsScript = newScript("readers-of-refs", stateless(`
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now_ms(), '+inf')) do
  if not redis.call('ZSCORE', KEYS[2], id) then return {0, id} end
end
return {1}
`))

// ReadersOfRefs reports whether every live worker reads tasks that carry
// only a reference to their record (tasks.InviteRef); when not, other is
// a live worker that does not (an earlier release's, mid-upgrade): a
// producer then sends whole invites, which every release reads. With no
// live worker, ok is true: the workers that start later are expected to
// be of this release or a later one.
func (c *Client) ReadersOfRefs(ctx context.Context) (ok bool, other string, err error) {
	res, err := readersOfRefsScript.Run(ctx, c.rdb, []string{c.k.workers(), c.k.workersReadingRefs()}).Slice()
	if err != nil {
		return false, "", fmt.Errorf("read which workers read references: %w", err)
	}
	if len(res) == 2 {
		other, _ = res[1].(string)
		return false, other, nil
	}
	return true, "", nil
}

// deadWorkersScript lists the workers whose beats have lapsed.
//
// KEYS[1] -> {prefix}:workers
var deadWorkersScript = newScript("dead-workers", stateless(`
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now_ms())
`))

// Heartbeat records that worker is alive for ttl more.
func (c *Client) Heartbeat(ctx context.Context, worker string, ttl time.Duration) error {
	if err := heartbeatScript.Run(ctx, c.rdb, []string{c.k.workers(), c.k.workersReadingRefs()}, worker, ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("worker heartbeat: %w", err)
	}
	return nil
}

// leaveScript: a worker stops. With nothing left in its held set it is
// forgotten; else it is marked dead at once (score 0), so the others take
// over what it still held (a request abandoned at the shutdown timeout)
// without waiting for its beat to lapse; the claim that empties its held
// set drops its entry.
//
// KEYS[1] -> {prefix}:workers
// KEYS[2] -> the worker's held set
// KEYS[3] -> {prefix}:workers:refs (a worker gone reads nothing)
// ARGV[1] -> the worker's ID
var leaveScript = newScript("leave", stateless(`
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', 0, ARGV[1])
return 1
`))

// Leave says worker stopped (leaveScript). Call it once its deliveries
// have ended and its held set was pruned (ClaimFrom with self).
func (c *Client) Leave(ctx context.Context, worker string) error {
	if err := leaveScript.Run(ctx, c.rdb, []string{c.k.workers(), c.k.held(worker), c.k.workersReadingRefs()}, worker).Err(); err != nil {
		return fmt.Errorf("worker leaving: %w", err)
	}
	return nil
}

// DeadWorkers lists the workers whose heartbeat has lapsed and whose held
// invites have not all been taken over yet.
func (c *Client) DeadWorkers(ctx context.Context) ([]string, error) {
	ids, err := deadWorkersScript.Run(ctx, c.rdb, []string{c.k.workers()}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("read dead workers: %w", err)
	}
	return ids, nil
}

// Held lists the invites worker began and may still hold (some may have
// ended since: Claim drops those).
func (c *Client) Held(ctx context.Context, worker string) ([]string, error) {
	keys, err := c.rdb.SMembers(ctx, c.k.held(worker)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the invites worker %s held: %w", worker, err)
	}
	return keys, nil
}
