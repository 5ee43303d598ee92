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

// probeLease is how long a probe (of a back-off, or of a provisional
// sender block) keeps its turn if its worker never reports back (it
// died): longer than any attempt's timeout.
const probeLease = 3 * time.Minute

// The sender's pace speeds up again when 429s stop: after PaceQuiet
// without a sender-scoped 429 it halves every PaceStep (remembering the
// pace that worked, to go back to it at the next 429). From MaxGateInterval
// that reaches no pace at all in PaceQuiet + 16 × PaceStep = 52 s: the pace
// follows the server's rate back within a minute of a limit being lifted.
const (
	PaceQuiet = 20 * time.Second
	PaceStep  = 2 * time.Second
)

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
// ARGV[6] -> the invite's room
// ARGV[7] -> how long a scope probe may hold its turn (ms)
// ARGV[8] -> the quiet time after a sender-scoped 429 before the pace
//
//	speeds up (ms), ARGV[9] -> then the time between two halvings (ms)
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
local key, room = ARGV[4], ARGV[6]
local g = redis.call('HMGET', KEYS[1], unpack(GATE_FIELDS))
local b = redis.call('HMGET', KEYS[1], 'quiet_since', 'backoff_until', 'probe', 'probe_until', 'good', 'step_at',
  'lim_by', 'lim_probe_at', 'lim_probe', 'lim_probe_until', 'lim_sure', 'blocked_until', 'rb:' .. room)
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
  if b[3] and b[3] ~= '' and b[3] ~= key and probe_left > 0 then
    return {math.min(probe_left, 1000), 2, now, trouble}
  end
  redis.call('HSET', KEYS[1], 'probe', key, 'probe_until', now + tonumber(ARGV[5]))
end
-- The invite's room is held by a room-scoped 429 (scope.go).
local room_wait = tonumber(b[13] or '0') - now
if room_wait > 0 then
  if room_wait > tonumber(ARGV[1]) then return {room_wait, 0, now, trouble} end
  return {room_wait, 2, now, trouble}
end
local untl, interval, quiet = tonumber(g[1]) or 0, tonumber(g[2]) or 0, tonumber(b[1]) or 0
-- A provisional sender block with a long advice lets one request of
-- another invite through as its probe (scope.go).
if b[8] and b[11] ~= '1' and b[7] ~= key and tonumber(b[8]) <= now and math.max(untl, tonumber(b[12] or '0')) > now
    and (not b[9] or tonumber(b[10] or '0') <= now) then
  redis.call('HSET', KEYS[1], 'lim_probe', key, 'lim_probe_until', now + tonumber(ARGV[7]))
  mark_sending(KEYS[4], KEYS[5])
  return {0, 3, now, trouble}
end
if gate_free(g, now) then
  -- The common case, no rate limit in sight: the request goes now, so it is
  -- marked in flight here, saving the send step's round trip.
  mark_sending(KEYS[4], KEYS[5])
  return {0, 3, now, trouble}
end
if g[3] == '0' then
  -- Never limited: halve the pace's interval every 100 ms (slow start).
  if now - quiet >= math.max(100, 2 * interval) then
    interval = math.floor(interval / 2)
    redis.call('HSET', KEYS[1], 'interval', interval, 'quiet_since', now, 'pace_set_at', now)
    if interval == 0 then redis.call('HSET', KEYS[1], 'recovering', 0) end
  end
elseif interval > 0 then
  -- Quiet since the last sender-scoped 429: after ARGV[8], the pace
  -- halves every ARGV[9], remembering the one that worked ("good"), so it
  -- finds the server's rate again when a limit is lifted (scope.go).
  local due = tonumber(b[6] or '0')
  if due == 0 then due = quiet + tonumber(ARGV[8]) end
  if now >= due then
    redis.call('HSET', KEYS[1], 'good', interval)
    interval = math.floor(interval / 2)
    if interval < 2 then
      interval = 0
      redis.call('HDEL', KEYS[1], 'kept') -- at full speed: no pace learnt from a sick server applies
    end
    redis.call('HSET', KEYS[1], 'interval', interval, 'pace_set_at', now, 'step_at', now + tonumber(ARGV[9]))
  end
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
// ARGV[1] -> the invite's room
//
// Returns 0 when marked sending, -1 when a pause holds the invite, else the
// ms to wait before asking again.
var gateSendScript = newScript("gateSend", stateless(luaMarkSending, `
local now = now_ms()
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local b = redis.call('HMGET', KEYS[1], 'blocked_until', 'rb:' .. ARGV[1])
local blocked = math.max(tonumber(b[1] or '0'), tonumber(b[2] or '0'))
if blocked > now then return blocked - now end
mark_sending(KEYS[4], KEYS[5])
return 0
`))

// gateLimitedScript records a 429 and decides whose it is (scope.go): the
// invitee's (only the invite waits), the room's (the sender's invites into
// that room wait) or the sender's (nothing of the sender goes before the
// advised time, and the pace adapts).
//
// KEYS[1] -> the sender's gate
// ARGV[1] -> advised delay (ms)
// ARGV[2] -> pace cap (ms)
// ARGV[3] -> when the limited request's slot was reserved (now_ms from acquire)
// ARGV[4] -> the invite key
// ARGV[5] -> the invite's room
// ARGV[6] -> when the slot of the invite's previous limited request was
//
//	reserved (0: none)
//
// ARGV[7] -> LongAdvice (ms)
// ARGV[8] -> ProbeDelay (ms)
// ARGV[9] -> the quiet time before the pace speeds up again (ms)
//
// Returns {scope, wait_ms}: scope "invitee", "room" or "sender"; wait_ms
// until what the scope holds opens (the advice for an invitee).
//
// The sender's pace: the first 429 ends the slow start (back to the pace
// before the last doubling of the rate, or the advice); a request limited
// although reserved at the current pace slows it by a tenth; one limited
// while the pace was speeding up sets it back to the one that worked
// ("good"); a request reserved before the pace changed does not move it
// (one burst does not compound, and the pace never ratchets up).
var gateLimitedScript = newScript("gateLimited", stateless(luaScope, `
-- Rounded up: the advised time is never placed before it really is.
local now = now_ms_up()
local advice, cap, r, key, room, prev = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'ok_res', 'rok:' .. room, 'rl:' .. room, 'lim_by', 'lim_res', 'lim_adv', 'lim_sure',
  'rb:' .. room, 'lim_probe', 'lim_set_at')
local ok_res, rok = num(f[1]), num(f[2])
local probe_hit = f[9] == key
if not probe_hit and (in_window(ok_res, r, advice) or (prev > 0 and ok_res > prev + margin(advice))) then
  -- Not the sender's. The room's, if another invite into it was limited in
  -- a window where nothing into the room but something elsewhere was
  -- accepted; else the invitee's.
  local lres, ladv, lkey = parse_rl(f[3])
  if lres and lkey ~= key and now < lres + ladv and not in_window(rok, lres, ladv) and in_window(ok_res, lres, ladv) then
    local untl = math.max(num(f[8]), now + advice)
    redis.call('HSET', KEYS[1], 'rb:' .. room, untl, 'rl:' .. room, r .. ',' .. advice .. ',' .. key)
    if redis.call('PTTL', KEYS[1]) < untl - now + 600000 then redis.call('PEXPIRE', KEYS[1], untl - now + 600000) end
    return {'room', untl - now}
  end
  redis.call('HSET', KEYS[1], 'rl:' .. room, r .. ',' .. advice .. ',' .. key)
  return {'invitee', advice}
end
-- The sender's, for now or for good.
local g = redis.call('HMGET', KEYS[1], 'until', 'interval', 'pace_set_at', 'limited_ever', 'blocked_until', 'good')
local old_until, old, pace_set_at, ever, old_blocked = num(g[1]), num(g[2]), num(g[3]), g[4], num(g[5])
local lim_by, lim_res, lim_adv = f[4], num(f[5]), num(f[6])
local live = lim_by and now < lim_res + lim_adv
if probe_hit or (live and f[7] ~= '1' and lim_by ~= key and r >= num(f[10])) then
  -- The probe, or another invite sent after the gate closed, was refused
  -- too: the sender's for good.
  redis.call('HSET', KEYS[1], 'lim_sure', 1)
  redis.call('HDEL', KEYS[1], 'lim_probe_at', 'lim_probe', 'lim_probe_until')
elseif not live then
  redis.call('HSET', KEYS[1], 'lim_by', key, 'lim_res', r, 'lim_adv', advice, 'lim_room', room, 'lim_set_at', now,
    'lim_sure', 0, 'lim_p_until', old_until, 'lim_p_blocked', old_blocked, 'lim_p_interval', old,
    'lim_p_set', pace_set_at, 'lim_p_ever', ever or '0')
  redis.call('HDEL', KEYS[1], 'lim_probe', 'lim_probe_until', 'lim_probe_at')
  if advice >= math.max(tonumber(ARGV[7]), 8 * old) then
    redis.call('HSET', KEYS[1], 'lim_probe_at', now + math.max(tonumber(ARGV[8]), old))
  end
end
local interval = old
if ever ~= '1' then
  -- The first 429 ends the slow start: back to the pace before the last
  -- doubling of the rate, which the server still accepted.
  interval = math.max(advice, old * 2)
elseif r >= pace_set_at then
  if g[6] then
    -- Limited while speeding up: back to the pace that worked.
    interval = math.max(advice, num(g[6]))
  elseif old > 0 then
    -- Limited although reserved at the current pace: the pace is too fast.
    interval = math.max(advice, math.ceil(old * 11 / 10))
  else
    interval = advice
  end
end
interval = math.min(interval, tonumber(ARGV[2]))
if interval ~= old then redis.call('HSET', KEYS[1], 'pace_set_at', now) end
local untl = math.max(old_until, now + advice)
local blocked = math.max(old_blocked, now + advice)
redis.call('HSET', KEYS[1], 'until', untl, 'interval', interval, 'quiet_since', now, 'blocked_until', blocked,
  'limited_ever', 1, 'step_at', now + tonumber(ARGV[9]))
redis.call('HDEL', KEYS[1], 'good')
if redis.call('PTTL', KEYS[1]) < untl - now + 600000 then redis.call('PEXPIRE', KEYS[1], untl - now + 600000) end
return {'sender', untl - now}
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
		probeLease.Milliseconds(), inv.RoomID, probeLease.Milliseconds(), PaceQuiet.Milliseconds(),
		PaceStep.Milliseconds()).Int64Slice()
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
	ms, err := gateSendScript.Run(ctx, c.rdb, c.gateKeys(inv, p), inv.RoomID).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("mark invite %s sending: %w", p.Key, err)
	}
	if ms < 0 {
		return 0, true, nil
	}
	return time.Duration(ms) * time.Millisecond, false, nil
}

// Limited records a 429 of the invite's request reserved at reservedAt
// (advice: its advised delay) and decides whose it is (scope.go): the
// returned scope's wait is until what it holds opens. p.LastLimited is the
// reservation of the invite's previous 429.
func (c *Client) Limited(ctx context.Context, inv tasks.Invite, p record.Progress, advice time.Duration, reservedAt int64) (record.LimitScope, time.Duration, error) {
	ms := (advice + time.Millisecond - 1).Milliseconds() // round up: never early
	res, err := gateLimitedScript.Run(ctx, c.rdb, []string{c.k.gate(inv.Sender)}, ms, MaxGateInterval.Milliseconds(),
		reservedAt, p.Key, inv.RoomID, p.LastLimited, LongAdvice.Milliseconds(), ProbeDelay.Milliseconds(),
		PaceQuiet.Milliseconds()).Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected answer %v", res)
	}
	if err != nil {
		return "", 0, fmt.Errorf("rate-limit gate of %q: %w", inv.Sender, err)
	}
	scope, _ := res[0].(string)
	wait, _ := res[1].(int64)
	return record.LimitScope(scope), time.Duration(wait) * time.Millisecond, nil
}
