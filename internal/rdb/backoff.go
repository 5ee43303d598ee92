package rdb

import (
	"context"
	"fmt"
	"time"
)

// The sender back-off's state lives in the sender's gate (gate.go) and in
// {prefix}:gate:{sender}:fails, the set of invites whose answers were
// ambiguous since the sender's last success. worker/backoff.go says when
// the worker reports to it and what its verdicts mean; here is how it is
// kept.
//
// Gate fields: backoff_level (0: not backing off), backoff_until (ms),
// backoff_open_at (when the current wait ends: failures of requests
// reserved before it do not escalate), probe, probe_until, trouble (1 while
// the fails set is not empty), trouble_since (ms of the first failure),
// backoff_since (ms of the closing that began the back-off).

// gateFailedScript records an ambiguous failure of an invite.
//
// KEYS[1] -> the sender's gate
// KEYS[2] -> the sender's fails set
// ARGV[1] -> the invite key
// ARGV[2] -> when its slot was reserved (now_ms from acquire)
// ARGV[3] -> the number of distinct invites that start a back-off
// ARGV[4..] -> the back-off schedule (ms; the last entry repeats, and caps a pace)
//
// Returns {level, wait_ms, at_max}: level 0 when the sender is not backing
// off; wait_ms until the gate opens; at_max 1 when the wait is the
// schedule's last.
var gateFailedScript = newScript("gateFailed", stateless(`
local now = now_ms_up()
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
local n = redis.call('SCARD', KEYS[2])
local g = redis.call('HMGET', KEYS[1], 'backoff_level', 'backoff_open_at', 'probe', 'trouble', 'backoff_until',
  'recovering', 'interval', 'pace_set_at', 'kept')
local level = tonumber(g[1] or '0')
if g[4] ~= '1' then redis.call('HSET', KEYS[1], 'trouble', 1, 'trouble_since', now) end
if g[3] == ARGV[1] then redis.call('HDEL', KEYS[1], 'probe', 'probe_until') end
if level == 0 and g[6] == '1' then
  -- Failed while speeding up again after a back-off. A request reserved at
  -- the current pace says the last halving went too far: back to the pace
  -- before it (never slower than the one the server kept), and stay there.
  -- One reserved before the pace changed was on its way already: it says
  -- nothing of the pace, but it too is the sender's failure, not its own.
  local interval = tonumber(g[7] or '0')
  if tonumber(ARGV[2]) >= tonumber(g[8] or '0') then
    interval = math.min(tonumber(g[9] or '60000'), 2 * math.max(interval, 1))
    redis.call('HSET', KEYS[1], 'interval', interval, 'recovering', 0, 'limited_ever', 1, 'pace_set_at', now, 'quiet_since', now)
  end
  return {1, interval, 0}
end
local escalate
if level == 0 then
  escalate = n >= tonumber(ARGV[3])
else
  -- Only a request sent after the last wait ended says the server is
  -- still sick; those reserved before it were already on their way.
  escalate = tonumber(ARGV[2]) >= tonumber(g[2] or '0')
end
local last = #ARGV - 3
if escalate then
  if level == 0 then redis.call('HSET', KEYS[1], 'backoff_since', now) end
  level = level + 1
  local wait = tonumber(ARGV[3 + math.min(level, last)])
  redis.call('HSET', KEYS[1], 'backoff_level', level, 'backoff_until', now + wait, 'backoff_open_at', now + wait)
  if redis.call('PTTL', KEYS[1]) < wait + 600000 then redis.call('PEXPIRE', KEYS[1], wait + 600000) end
  return {level, wait, level >= last and 1 or 0}
end
if level == 0 then return {0, 0, 0} end
return {level, math.max(tonumber(g[5] or '0') - now, 0), level >= last and 1 or 0}
`))

// gateOKScript records a success while the sender had failures: the
// failures are forgotten, and a back-off ends at the pace the server kept.
//
// KEYS[1] -> the sender's gate
// KEYS[2] -> the sender's fails set
// ARGV[1] -> the longest pace (ms)
//
// Returns the gate's interval (ms) afterwards.
var gateOKScript = newScript("gateOK", stateless(`
local now = now_ms()
local g = redis.call('HMGET', KEYS[1], 'backoff_level', 'backoff_since', 'interval')
local interval = tonumber(g[3] or '0')
if tonumber(g[1] or '0') > 0 then
  -- Start again at the pace the server kept (from the gate's closing to
  -- this success: the time the server needed, not the time requests spent
  -- waiting at the gate's own pace before), then speed up as a new gate
  -- does (halving the interval while requests succeed) until a failure
  -- says where the server's limit is. (Not the larger of it and the pace
  -- before: a pace learnt from one back-off must not ratchet up the next
  -- one's.)
  local kept = now - tonumber(g[2] or now)
  interval = math.min(tonumber(ARGV[1]), kept)
  redis.call('HSET', KEYS[1], 'interval', interval, 'kept', interval, 'limited_ever', 0, 'recovering', 1, 'pace_set_at', now, 'quiet_since', now)
end
redis.call('HSET', KEYS[1], 'backoff_level', 0, 'backoff_until', 0, 'trouble', 0)
redis.call('HDEL', KEYS[1], 'probe', 'probe_until', 'trouble_since', 'backoff_open_at', 'backoff_since')
redis.call('DEL', KEYS[2])
return interval
`))

// BackoffVerdict says what an ambiguous failure did to the sender.
type BackoffVerdict struct {
	// Level is 0 when the sender is not backing off.
	Level int
	// Wait is until its gate opens again.
	Wait time.Duration
	// AtMax: the wait is the schedule's longest.
	AtMax bool
}

// Failed records an ambiguous failure of invite key of sender, whose slot
// was reserved at reservedAt; threshold distinct invites start a back-off
// whose waits are schedule.
func (c *Client) Failed(ctx context.Context, sender, key string, reservedAt int64, threshold int, schedule []time.Duration) (BackoffVerdict, error) {
	args := []any{key, reservedAt, threshold}
	for _, d := range schedule {
		args = append(args, d.Milliseconds())
	}
	res, err := gateFailedScript.Run(ctx, c.rdb, []string{c.k.gate(sender), c.k.fails(sender)}, args...).Int64Slice()
	if err != nil {
		return BackoffVerdict{}, fmt.Errorf("back-off of %q: %w", sender, err)
	}
	return BackoffVerdict{Level: int(res[0]), Wait: time.Duration(res[1]) * time.Millisecond, AtMax: res[2] == 1}, nil
}

// Recovered records a success of a sender that had failures.
func (c *Client) Recovered(ctx context.Context, sender string) error {
	err := gateOKScript.Run(ctx, c.rdb, []string{c.k.gate(sender), c.k.fails(sender)}, MaxGateInterval.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("back-off of %q: %w", sender, err)
	}
	return nil
}
