package rdb

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// The gate is libQuotient's connection-wide rate limiting, shared by every
// worker process through Redis (gap #4 of the reference): one 429 suspends
// every invite of the same sender for the advised time, and afterwards
// invites are released one by one, spaced by a pace (interval) learned from
// the server.
//
// A new gate starts slowly (StartInterval, halving every 100 ms until the
// first 429). A token bucket such as Synapse's advises the time until its
// next token, which is at most 1/rate: after a 429 the pace becomes the
// advice, keeps the largest advice seen, and grows by a tenth whenever a
// request reserved at the current pace is still limited (requests reserved
// before the pace changed do not count, so one burst does not compound).
// After a quiet period (3 s, or 20 intervals) it shrinks by a twentieth,
// so a raised limit is found again at the cost of an occasional 429. A
// request whose slot was reserved before a 429 is held back at the last
// moment (gateSendScript) until the advised time. Time comes from Redis
// (TIME), so every process reads the same clock.
//
// Gate fields ({prefix}:gate:{sender}): until (ms: the next free slot),
// interval (ms: the pace), quiet_since, pace_set_at, limited_ever ("0"
// until the first 429), blocked_until (ms: nothing goes before it),
// recovering, kept, and the back-off's fields (backoff.go).

// StartInterval is the pace of a new gate: 50 requests/s, doubling every
// 100 ms until the first 429 (a slow start, as TCP's), so a worker fleet
// starting at full concurrency does not meet a rate limit all at once.
const StartInterval = 20 * time.Millisecond

// reserveAhead is how far ahead of time a slot may be reserved (or one
// interval, if longer).
const reserveAhead = 100 * time.Millisecond

// MaxGateInterval is the longest pace the gate keeps between two requests
// of one sender; an advice longer than this (a daily quota, say) delays the
// next request but does not space out the ones after it.
const MaxGateInterval = time.Minute

// probeLease is how long a back-off probe keeps its turn if its worker
// never reports back (it died): longer than any attempt's timeout.
const probeLease = 3 * time.Minute

// luaMarkSending marks an invite's request as going out and counts it.
const luaMarkSending = `
local function mark_sending(rec, counts)
  redis.call('HSET', rec, 'inflight', '1')
  redis.call('HINCRBY', rec, 'requests', 1)
  redis.call('HINCRBY', counts, 'requests', 1)
end
`

// gateAcquireScript reserves the sender's next send slot.
//
// KEYS[1] -> the sender's gate
// KEYS[2] -> the campaign's pause
// KEYS[3] -> the sender's pause
// KEYS[4] -> the invite's record
// KEYS[5] -> its campaign's counts
// ARGV[1] -> the longest wait the caller will sleep (ms)
// ARGV[2] -> the pace of a new gate (ms)
// ARGV[3] -> how far ahead a slot may be reserved (ms; at least one interval)
// ARGV[4] -> the invite key
// ARGV[5] -> how long a back-off probe may hold its turn (ms)
//
// Returns {wait_ms, status, now_ms, trouble}: status 3 means the request may
// go now and is already marked in flight (as gateSendScript does); 1 means
// the slot is taken and the caller sends after wait_ms; 2 means nothing is
// reserved yet: ask again after wait_ms; 0 means the wait is longer than the
// caller will sleep (nothing reserved: it hands the task back); 4 means a
// pause holds the invite. now_ms is when the slot was reserved (Redis time),
// which gateLimitedScript and gateFailedScript compare with the last change
// of pace. trouble is 1 while the sender has ambiguous failures since its
// last success (backoff.go): the caller then reports its success.
var gateAcquireScript = newScript("gateAcquire", stateless(luaMarkSending, luaGateOpen, `
local now = now_ms()
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return {0, 4, now, 0} end
local g = redis.call('HMGET', KEYS[1], unpack(GATE_FIELDS))
local b = redis.call('HMGET', KEYS[1], 'quiet_since', 'backoff_until', 'probe', 'probe_until')
local trouble = 0
if g[5] == '1' then trouble = 1 end
if not g[3] then
  -- A new gate starts slowly, so a first burst of concurrent invites does
  -- not run into a rate limit all at once.
  g = {0, tonumber(ARGV[2]), '0', '0', g[5]}
  b[1] = now
  redis.call('HSET', KEYS[1], 'until', 0, 'interval', g[2], 'quiet_since', now, 'pace_set_at', now, 'limited_ever', 0)
end
if tonumber(g[4] or '0') > 0 then
  -- The sender backs off (backoff.go): closed until backoff_until, then one
  -- invite at a time probes whether the server is well again.
  local closed = tonumber(b[2] or '0') - now
  if closed > tonumber(ARGV[1]) then return {closed, 0, now, trouble} end
  if closed > 0 then return {closed, 2, now, trouble} end
  local probe_left = tonumber(b[4] or '0') - now
  if b[3] and b[3] ~= '' and b[3] ~= ARGV[4] and probe_left > 0 then
    return {math.min(probe_left, 1000), 2, now, trouble}
  end
  redis.call('HSET', KEYS[1], 'probe', ARGV[4], 'probe_until', now + tonumber(ARGV[5]))
end
if gate_free(g, now) then
  -- The common case, no rate limit in sight: the request goes now, so it is
  -- marked in flight here, saving the send step's round trip.
  mark_sending(KEYS[4], KEYS[5])
  return {0, 3, now, trouble}
end
local untl, interval, quiet = tonumber(g[1]) or 0, tonumber(g[2]) or 0, tonumber(b[1]) or 0
if g[3] == '0' then
  -- Never limited: halve the pace's interval every 100 ms (slow start).
  if now - quiet >= math.max(100, 2 * interval) then
    interval = math.floor(interval / 2)
    redis.call('HSET', KEYS[1], 'interval', interval, 'quiet_since', now, 'pace_set_at', now)
    if interval == 0 then redis.call('HSET', KEYS[1], 'recovering', 0) end
  end
elseif interval > 0 and now - quiet >= math.max(3000, 20 * interval) then
  interval = math.floor(interval * 19 / 20)
  redis.call('HSET', KEYS[1], 'interval', interval, 'quiet_since', now, 'pace_set_at', now)
end
local slot = math.max(now, untl)
if slot - now > tonumber(ARGV[1]) then return {slot - now, 0, now, trouble} end
-- Reserve at most a short way ahead, so that a change of pace applies to
-- the next requests rather than after a queue of reservations made at the
-- old pace; the caller comes back when its slot is near.
-- (+2 ms: the ends of a wait are rounded to whole ms, one of them up.)
local ahead = math.max(tonumber(ARGV[3]), interval) + 2
if slot - now > ahead then return {slot - now - ahead, 2, now, trouble} end
redis.call('HSET', KEYS[1], 'until', slot + interval)
redis.call('PEXPIRE', KEYS[1], slot + interval - now + 600000)
return {slot - now, 1, now, trouble}
`))

// gateSendScript is the last step before a request goes out: if a 429
// arrived after the caller reserved its slot and its advised time has not
// come yet, nothing is sent (the caller waits and asks the gate again).
// Otherwise, in the same round trip, the request is marked in flight — if
// the worker dies before recording the answer, the next delivery knows the
// outcome is unknown — and counted now, so a crash can only over-count.
//
// KEYS[1] -> the sender's gate
// KEYS[2] -> the campaign's pause
// KEYS[3] -> the sender's pause
// KEYS[4] -> the invite's record
// KEYS[5] -> its campaign's counts
//
// Returns 0 when marked sending, -1 when a pause holds the invite, else the
// ms to wait before asking again.
var gateSendScript = newScript("gateSend", stateless(luaMarkSending, `
local now = now_ms()
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if blocked > now then return blocked - now end
mark_sending(KEYS[4], KEYS[5])
return 0
`))

// gateLimitedScript records a 429: nothing is sent before now + advice, and
// the pace adapts.
//
// KEYS[1] -> the sender's gate
// ARGV[1] -> advised delay (ms)
// ARGV[2] -> pace cap (ms)
// ARGV[3] -> when the limited request's slot was reserved (now_ms from acquire)
//
// Returns the time (ms from now) until the gate opens.
var gateLimitedScript = newScript("gateLimited", stateless(`
-- Rounded up: the advised time is never placed before it really is.
local now = now_ms_up()
local advice, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local g = redis.call('HMGET', KEYS[1], 'until', 'interval', 'pace_set_at', 'limited_ever')
local untl = math.max(tonumber(g[1]) or 0, now + advice)
local old, pace_set_at, reserved = tonumber(g[2]) or 0, tonumber(g[3]) or 0, tonumber(ARGV[3])
local blocked = math.max(tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0'), now + advice)
local interval = math.max(advice, old)
if g[4] ~= '1' then
  -- The first 429 ends the slow start: back to the pace before the last
  -- doubling of the rate, which the server still accepted.
  interval = math.max(advice, old * 2)
elseif old > 0 and reserved >= pace_set_at then
  -- Limited although reserved at the current pace: the pace is too fast.
  interval = math.max(advice, math.ceil(old * 11 / 10))
end
interval = math.min(interval, cap)
if interval ~= old then redis.call('HSET', KEYS[1], 'pace_set_at', now) end
redis.call('HSET', KEYS[1], 'until', untl, 'interval', interval, 'quiet_since', now, 'blocked_until', blocked, 'limited_ever', 1)
redis.call('PEXPIRE', KEYS[1], untl - now + 600000)
return untl - now
`))

// Slot is the gate's answer to a request for a send time.
type Slot struct {
	// Wait is until the slot (reserved), or until asking again.
	Wait time.Duration
	// Sent: go now, already marked in flight. Reserved: the slot is taken.
	// Otherwise, with Later set, ask again after Wait; without, the wait is
	// longer than the caller sleeps. Paused: a pause holds the invite.
	Sent, Reserved, Later, Paused bool
	// Trouble: the sender has had ambiguous failures since its last
	// success; report a success with Recovered.
	Trouble bool
	// At is when it was reserved, Redis time in ms.
	At int64
}

func (c *Client) gateKeys(inv tasks.Invite, p record.Progress) []string {
	return []string{c.k.gate(inv.Sender), c.k.pause(string(record.PauseCampaign), inv.Campaign),
		c.k.pause(string(record.PauseSender), inv.Sender), c.k.invite(p.Key), c.k.counts(p.Campaign)}
}

// Acquire reserves the invite's sender's next slot if it is at most maxWait
// away; when the slot is now, the request is marked in flight too.
func (c *Client) Acquire(ctx context.Context, inv tasks.Invite, p record.Progress, maxWait time.Duration) (Slot, error) {
	res, err := gateAcquireScript.Run(ctx, c.rdb, c.gateKeys(inv, p),
		maxWait.Milliseconds(), StartInterval.Milliseconds(), reserveAhead.Milliseconds(), p.Key,
		probeLease.Milliseconds()).Int64Slice()
	if err != nil {
		return Slot{}, fmt.Errorf("rate-limit gate of %q: %w", inv.Sender, err)
	}
	return Slot{Wait: time.Duration(res[0]) * time.Millisecond, Sent: res[1] == 3,
		Reserved: res[1] == 1 || res[1] == 3, Later: res[1] == 2, Paused: res[1] == 4,
		Trouble: res[3] == 1, At: res[2]}, nil
}

// Send marks the invite's request as going out now, unless a 429 advised a
// later time since the slot was reserved: then it returns how long to wait.
// paused is true when a pause now holds the invite.
func (c *Client) Send(ctx context.Context, inv tasks.Invite, p record.Progress) (wait time.Duration, paused bool, err error) {
	ms, err := gateSendScript.Run(ctx, c.rdb, c.gateKeys(inv, p)).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("mark invite %s sending: %w", p.Key, err)
	}
	if ms < 0 {
		return 0, true, nil
	}
	return time.Duration(ms) * time.Millisecond, false, nil
}

// Limited closes the sender's gate for the advised delay; reservedAt is
// when the limited request's slot was reserved.
func (c *Client) Limited(ctx context.Context, sender string, advice time.Duration, reservedAt int64) error {
	ms := (advice + time.Millisecond - 1).Milliseconds() // round up: never early
	err := gateLimitedScript.Run(ctx, c.rdb, []string{c.k.gate(sender)}, ms, MaxGateInterval.Milliseconds(), reservedAt).Err()
	if err != nil {
		return fmt.Errorf("rate-limit gate of %q: %w", sender, err)
	}
	return nil
}
