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
// A failure at level 0 is spared provisionally when it is the invite's
// first since the sender's last success (the owed set remembers it), and
// charged with the invite's next failure unless the back-off proves the
// sender sick meanwhile (a request sent after its first wait fails too:
// level 2): an address failing on its own keeps its configured request
// count and waits, and invites caught by a sick server lose nothing. The
// failures spared at the back-off's first level, or while the pace speeds
// up again after it, are owed the same way: six adjacent refused addresses
// sent together can start a back-off that the next success ends, and then
// their spared failures were the addresses' own.
//
// A run of failures is the sender's only when more than those addresses
// fail: BackoffThreshold distinct invites failing with no success between
// them only make the sender suspect (suspect_at); the back-off starts when
// an invite that had not failed yet, reserved after that, fails too, or
// when one of the failed ones fails again, still with no success, while
// other invites of its campaign are queued behind them. Adjacent addresses
// that fail on their own (a refused domain sorted together) thus never
// back the sender off while others succeed, nor once only they are left:
// they keep their own retry schedule.
//
// Gate fields: backoff_level (0: not backing off), backoff_until (ms),
// backoff_open_at (when the current wait ends: failures of requests
// reserved before it do not escalate), probe, probe_until, trouble (1 while
// the fails set is not empty), trouble_since (ms of the first failure),
// backoff_since (ms of the closing that began the back-off), suspect_at
// (ms: the threshold was reached; a fresh failure after it starts the
// back-off).

// gateFailedScript records an ambiguous failure of an invite.
//
// KEYS[1] -> the sender's gate
// KEYS[2] -> the sender's fails set
// KEYS[3] -> the sender's owed set (invites whose last failure was spared
//
//	provisionally)
//
// KEYS[4] -> the invite's campaign's counts
//
// ARGV[1] -> the invite key
// ARGV[2] -> when its slot was reserved (now_ms from acquire)
// ARGV[3] -> the number of distinct invites that start a suspicion
// ARGV[4] -> "1" when this is the invite's first failure ever (it is fresh)
// ARGV[5] -> the quiet time before the pace speeds up again (gate.go; ms)
// ARGV[6] -> when its request went out (ms): the suspicion and the
//
//	back-off's waits compare it (the pace compares the reservation)
//
// ARGV[7] -> how long after the suspicion a fresh request must have gone
//
//	out to confirm it (ms)
//
// ARGV[8..] -> the back-off schedule (ms; the last entry repeats)
//
// Returns {level, wait_ms, at_max, provisional, owed}: level 0 when the
// sender is not backing off; wait_ms until the gate opens; at_max 1 when
// the wait is the schedule's last; provisional 1 when this failure is
// spared for now (the invite's first failure since the sender's last
// success, while the sender may be sick: it is owed, and charged with the
// invite's next failure unless the sender turns out sick); owed 1 when an
// earlier provisionally spared failure of the invite is charged now.
var gateFailedScript = newScript("gateFailed", script(`
local now = now_ms_up()
local first_this_run = redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0
local fresh = ARGV[4] == '1'
local owed = redis.call('SREM', KEYS[3], ARGV[1])
-- A failure spared provisionally is owed: charged with the invite's next
-- failure (owed, returned) unless the back-off proves the sender sick.
local function owe()
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('PEXPIRE', KEYS[3], 86400000)
end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], 86400000)
local n = redis.call('SCARD', KEYS[2])
local g = redis.call('HMGET', KEYS[1], 'backoff_level', 'backoff_open_at', 'probe', 'trouble', 'backoff_until',
  'recovering', 'interval', 'pace_set_at', 'kept', 'suspect_at', 'good')
local level = tonumber(g[1] or '0')
if g[4] ~= '1' then redis.call('HSET', KEYS[1], 'trouble', 1, 'trouble_since', now) end
if g[3] == ARGV[1] then redis.call('HDEL', KEYS[1], 'probe', 'probe_until') end
-- Only an invite's first failure can say a pace went too far: one that
-- failed before and fails again is likelier failing on its own (a refused
-- address, issue 20), and it would otherwise set a sender whose failures
-- were all its invitees' back to a slow pace for the rest of the campaign
-- (bench I20c: 4.7 s late at the tail). It is counted as any failure
-- below, and still starts a back-off once the sender is suspected.
if level == 0 and g[6] == '1' and fresh then
  -- Failed while speeding up again after a back-off. A request reserved at
  -- the current pace says the last halving went too far: back to the pace
  -- before it (never slower than the one the server kept), and stay there.
  -- One reserved before the pace changed was on its way already: it says
  -- nothing of the pace. Either way the failure is spared, but owed.
  local interval = tonumber(g[7] or '0')
  if tonumber(ARGV[2]) >= tonumber(g[8] or '0') then
    interval = math.min(tonumber(g[9] or '60000'), 2 * math.max(interval, 1))
    redis.call('HSET', KEYS[1], 'interval', interval, 'recovering', 0, 'limited_ever', 1, 'pace_set_at', now, 'quiet_since', now)
  end
  owe()
  return {1, interval, 0, 0, owed}
end
if level == 0 and g[11] and fresh and tonumber(ARGV[2]) >= tonumber(g[8] or '0') then
  -- Failed right after the pace sped up (gate.go): back to the pace that
  -- worked, for another quiet time; the failure is spared, but owed.
  redis.call('HSET', KEYS[1], 'interval', g[11], 'pace_set_at', now, 'quiet_since', now, 'step_at', now + tonumber(ARGV[5]))
  redis.call('HDEL', KEYS[1], 'good', 'step_n')
  owe()
  return {0, 0, 0, 1, owed}
end
local escalate = false
if level == 0 then
  if g[10] then
    -- Suspected, and: a fresh invite, sent after the suspicion, failed
    -- too; or an invite that failed already failed again with no success
    -- between while others of its campaign wait their turn and every
    -- invite it has under way is among the failing ones (they hold the
    -- worker's slots, so no fresh invite can show it).
    local c = redis.call('HMGET', KEYS[4], 'state:' .. ST.queued, 'state:' .. ST.active)
    -- (Sent at least two finish lingers after it: requests that went out
    -- together with the suspected ones, e.g. adjacent addresses of one
    -- refused domain, are one observation, and a success among them may
    -- not be recorded yet.)
    escalate = (fresh and tonumber(ARGV[6]) >= tonumber(g[10]) + tonumber(ARGV[7])) or
      (not fresh and tonumber(c[1] or '0') > 0 and n >= tonumber(c[2] or '0'))
  elseif n >= tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'suspect_at', now)
  end
else
  -- Only a request sent after the last wait ended says the server is
  -- still sick; those reserved before it were already on their way.
  escalate = tonumber(ARGV[6]) >= tonumber(g[2] or '0')
end
local last = #ARGV - 7
if escalate then
  if level == 0 then
    -- It began when the suspicion did: the kept pace counts from there.
    redis.call('HSET', KEYS[1], 'backoff_since', g[10] or now)
  end
  level = level + 1
  if level == 1 then
    -- Perhaps the sender's: spared, but owed (a block of refused
    -- addresses sent together can look like a sick sender for one wait).
    owe()
  else
    -- A request sent after a wait ended failed too: the sender is sick,
    -- and what was spared stays spared.
    redis.call('DEL', KEYS[3])
    owed = 0
  end
  local wait = tonumber(ARGV[7 + math.min(level, last)])
  redis.call('HSET', KEYS[1], 'backoff_level', level, 'backoff_until', now + wait, 'backoff_open_at', now + wait)
  if redis.call('PTTL', KEYS[1]) < wait + 600000 then redis.call('PEXPIRE', KEYS[1], wait + 600000) end
  return {level, wait, level >= last and 1 or 0, 0, owed}
end
if level == 0 then
  if first_this_run then
    owe()
    return {0, 0, 0, 1, owed}
  end
  return {0, 0, 0, 0, owed}
end
if level == 1 then owe() end
return {level, math.max(tonumber(g[5] or '0') - now, 0), level >= last and 1 or 0, 0, owed}
`))

// luaRecovered ends a sender's failures when an answer shows its server
// working: the failures are forgotten, and a back-off ends at the pace the
// server kept. gateOKScript and finishScript (for every final answer that
// shows it, so no success goes unreported) use it.
const luaRecovered = `
local function recovered(gate, fails, cap)
local now = now_ms()
local g = redis.call('HMGET', gate, 'backoff_level', 'backoff_since', 'interval')
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
  interval = math.min(cap, kept)
  redis.call('HSET', gate, 'interval', interval, 'kept', interval, 'limited_ever', 0, 'recovering', 1, 'pace_set_at', now, 'quiet_since', now)
end
redis.call('HSET', gate, 'backoff_level', 0, 'backoff_until', 0, 'trouble', 0)
redis.call('HDEL', gate, 'probe', 'probe_until', 'trouble_since', 'backoff_open_at', 'backoff_since', 'suspect_at')
redis.call('DEL', fails)
return interval
end
`

// gateOKScript records a success while the sender had failures.
//
// KEYS[1] -> the sender's gate
// KEYS[2] -> the sender's fails set
// ARGV[1] -> the longest pace (ms)
//
// Returns the gate's interval (ms) afterwards.
var gateOKScript = newScript("gateOK", stateless(luaRecovered, `
return recovered(KEYS[1], KEYS[2], tonumber(ARGV[1]))
`))

// BackoffVerdict says what an ambiguous failure did to the sender.
type BackoffVerdict struct {
	// Level is 0 when the sender is not backing off.
	Level int
	// Wait is until its gate opens again.
	Wait time.Duration
	// AtMax: the wait is the schedule's longest.
	AtMax bool
	// Provisional: the failure costs the invite no retry for now (it may
	// be the sender's); it is owed, and charged with the invite's next
	// failure unless the sender turns out sick.
	Provisional bool
	// Owed is 1 when an earlier provisional failure of the invite is
	// charged now, besides this one.
	Owed int
}

// Failed records an ambiguous failure of invite key of sender (of
// campaign), whose slot was reserved at reservedAt and which went out at
// sentAt (fresh: its first
// failure ever); threshold distinct
// invites make the sender suspect, and a back-off whose waits are schedule
// starts as the script says.
func (c *Client) Failed(ctx context.Context, sender, campaign, key string, reservedAt, sentAt int64, fresh bool, threshold int, schedule []time.Duration) (BackoffVerdict, error) {
	args := []any{key, reservedAt, threshold, boolArg(fresh), PaceQuiet.Milliseconds(), sentAt, (2*deliveryLinger + time.Millisecond).Milliseconds()}
	for _, d := range schedule {
		args = append(args, d.Milliseconds())
	}
	res, err := gateFailedScript.Run(ctx, c.rdb, []string{c.k.gate(sender), c.k.fails(sender), c.k.owed(sender), c.k.counts(campaign)}, args...).Int64Slice()
	if err == nil && len(res) != 5 {
		err = fmt.Errorf("unexpected answer %v", res)
	}
	if err != nil {
		return BackoffVerdict{}, fmt.Errorf("back-off of %q: %w", sender, err)
	}
	return BackoffVerdict{Level: int(res[0]), Wait: time.Duration(res[1]) * time.Millisecond, AtMax: res[2] == 1,
		Provisional: res[3] == 1, Owed: int(res[4])}, nil
}

// Recovered records a success of a sender that had failures.
func (c *Client) Recovered(ctx context.Context, sender string) error {
	err := gateOKScript.Run(ctx, c.rdb, []string{c.k.gate(sender), c.k.fails(sender)}, MaxGateInterval.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("back-off of %q: %w", sender, err)
	}
	return nil
}
