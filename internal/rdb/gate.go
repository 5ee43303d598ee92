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
// first 429; an invite on its own retry schedule skips it). Only a 429
// confirmed as the sender's (scope.go) moves the pace: a token bucket such
// as Synapse's advises the time until its next token, at most 1/rate, so
// the first sets the pace to the advice (or the pace before the last
// halving), and a request reserved at the current pace that is still
// limited slows it by a tenth (requests reserved before the pace changed
// do not count: one burst does not compound). After PaceQuiet without a
// sender 429 it speeds up every PaceStep and remembers the pace that held
// (good), to go back to it at the next 429: it never ratchets. A request
// whose slot was reserved before a 429 is held back at the last moment
// (gateSendScript) until the advised time. Time comes from Redis (TIME),
// so every process reads the same clock.
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
// without a sender-scoped 429 it shortens every PaceStep, by a tenth, a
// fifth, two fifths, then by half each time (remembering the pace that
// worked, to go back to it at the next 429). From MaxGateInterval that
// reaches no pace at all in PaceQuiet + 17 × PaceStep = 54 s: the pace
// follows the server's rate back within a minute of a limit being lifted,
// and a sender paced at its limit's rate meets it once per PaceQuiet, by a
// tenth.
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
//	speeds up (ms), ARGV[9] -> then the time between two steps (ms)
//
// ARGV[10] -> how soon to ask again while a guess holds (ProbeDelay, ms)
// ARGV[11] -> "1" when the invite is on its own retry schedule (answered
//
//	before: a failure or a 429)
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
if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return {0, 4, now, 0} end
local key, room = ARGV[4], ARGV[6]
-- One read of the gate: GATE_FIELDS (g), then the rest (b).
local all = redis.call('HMGET', KEYS[1], 'quiet_since', 'backoff_until', 'probe', 'probe_until', 'good', 'step_at',
  'lim_by', 'lim_probe_at', 'lim_probe', 'lim_probe_until', 'lim_sure', 'blocked_until', 'rb:' .. room,
  'lim_set_at', 'lim_adv', 'lim_chk_a', 'lim_chk_b', unpack(GATE_FIELDS))
local g, b = {}, {}
for i = 1, 17 do b[i] = all[i] end
for i = 1, #GATE_FIELDS do g[i] = all[17 + i] end
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
    -- (Asked again soon: the probe's answer may come at once.)
    return {math.min(probe_left, 20), 2, now, trouble}
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
if b[8] and b[11] ~= '1' and b[7] ~= key and tonumber(b[8]) <= now and tonumber(b[12] or '0') > now
    and (not b[9] or tonumber(b[10] or '0') <= now) then
  redis.call('HSET', KEYS[1], 'lim_probe', key, 'lim_probe_until', now + tonumber(ARGV[7]))
  mark_sending(KEYS[4], KEYS[5])
  return {0, 3, now, trouble}
end
-- The check after a provisional sender block (scope.go): the first
-- request after the block takes the token a sender limit would have given
-- (lim_chk_a: when it goes); a second one goes right behind it, and its
-- answer tells whether the sender is limited at all.
local chk_from, chk_adv = tonumber(b[14] or '0') + tonumber(b[15] or '0'), tonumber(b[15] or '0')
local checking = b[7] and b[11] ~= '1' and now < chk_from + 2 * chk_adv
if checking and b[16] and not b[17] and b[7] ~= key then
  -- (Just past the margin of the first: a request that could have crossed
  -- it on the wire proves nothing.)
  local a = tonumber(b[16]) + math.min(10, math.max(1, math.floor(chk_adv / 10))) + 1
  if now < a then return {a - now, 2, now, trouble} end
  if now < a + chk_adv then
    redis.call('HSET', KEYS[1], 'lim_chk_b', key)
    mark_sending(KEYS[4], KEYS[5])
    return {0, 3, now, trouble}
  end
end
if checking and b[16] and b[17] then
  -- The others wait for the check's answer (asking again soon: it may
  -- come at once), at most until the token after the first one's would.
  local left = tonumber(b[16]) + chk_adv - now
  if left > 0 then return {math.min(left, tonumber(ARGV[10])), 2, now, trouble} end
end
local function note_check(slot)
  if checking and not b[16] and slot >= chk_from and b[7] ~= key then redis.call('HSET', KEYS[1], 'lim_chk_a', slot) end
end
if gate_free(g, now) or (g[3] == '0' and ARGV[11] == '1' and tonumber(b[12] or '0') <= now) then
  -- The common case, no rate limit in sight: the request goes now, so it is
  -- marked in flight here, saving the send step's round trip. (An invite
  -- on its own retry schedule does not queue behind a new gate's slow
  -- start: it is one request, due now.)
  note_check(now)
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
  -- speeds up every ARGV[9], gently first (a tenth, a fifth, two fifths:
  -- paced at a limit's rate, the first faster request meets it), then
  -- halving, remembering the one that worked ("good", to go back to at
  -- the next 429), so it finds the server's rate again when a limit is
  -- lifted.
  local due = tonumber(b[6] or '0')
  if due == 0 then due = quiet + tonumber(ARGV[8]) end
  if now >= due then
    local n = redis.call('HINCRBY', KEYS[1], 'step_n', 1)
    -- "good" is the pace that held for the quiet time, not the last step:
    -- a bucket's burst, refilled meanwhile, lets a few faster steps pass
    -- before it refuses.
    if n == 1 then redis.call('HSET', KEYS[1], 'good', interval) end
    interval = math.floor(interval * (({0.9, 0.8, 0.6})[n] or 0.5))
    if interval < 2 then
      interval = 0
      redis.call('HDEL', KEYS[1], 'kept') -- at full speed: no pace learnt from a sick server applies
    end
    redis.call('HSET', KEYS[1], 'interval', interval, 'pace_set_at', now, 'step_at', now + tonumber(ARGV[9]))
  end
end
-- A guess (a provisional sender block, scope.go) may be undone by the
-- next answer: while it holds, nothing is reserved behind it and the
-- caller asks again soon rather than sleeping (or handing its task back)
-- for the whole advice.
local guess_left = tonumber(b[12] or '0') - now
if b[7] and b[11] ~= '1' and guess_left > 0 then return {math.min(guess_left, tonumber(ARGV[10])), 2, now, trouble} end
local slot = math.max(now, untl)
if slot - now > tonumber(ARGV[1]) then return {slot - now, 0, now, trouble} end
-- Reserve at most a short way ahead, so that a change of pace applies to
-- the next requests rather than after a queue of reservations made at the
-- old pace; the caller comes back when its slot is near.
-- (+2 ms: the ends of a wait are rounded to whole ms, one of them up.)
local ahead = math.max(tonumber(ARGV[3]), interval) + 2
if slot - now > ahead then return {slot - now - ahead, 2, now, trouble} end
note_check(slot)
redis.call('HSET', KEYS[1], 'until', slot + interval)
redis.call('PEXPIRE', KEYS[1], slot + interval - now + 600000)
return {slot - now, 1, now, trouble}
`))

// gateSendScript is the last step before a request goes out: if a 429
// arrived after the caller reserved its slot and its advised time has not
// come yet, or the sender began to back off (backoff.go) and its wait has
// not ended, nothing is sent (the caller waits and asks the gate again,
// which then lets one probe through). Without the back-off's hold, the
// requests reserved before the back-off began went out into the failing
// server anyway (bench I11b: a store limit's 500s).
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
// Returns {0, now_ms} when marked sending, {-1, now_ms} when a pause holds
// the invite, else {ms to wait before asking again, now_ms}.
var gateSendScript = newScript("gateSend", stateless(luaMarkSending, `
local now = now_ms()
if redis.call('EXISTS', KEYS[2], KEYS[3]) > 0 then return {-1, now} end
local b = redis.call('HMGET', KEYS[1], 'blocked_until', 'rb:' .. ARGV[1], 'backoff_until')
local blocked = math.max(tonumber(b[1] or '0'), tonumber(b[2] or '0'), tonumber(b[3] or '0'))
if blocked > now then return {blocked - now, now} end
mark_sending(KEYS[4], KEYS[5])
return {0, now}
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
	return []string{c.k.gate(GateName(inv.Sender, p.Path)), c.k.pause(string(record.PauseCampaign), inv.Campaign),
		c.k.pause(string(record.PauseSender), inv.Sender), c.k.invite(p.Key), c.k.counts(p.Campaign)}
}

// Acquire reserves the invite's sender's next slot if it is at most maxWait
// away; when the slot is now, the request is marked in flight too.
func (c *Client) Acquire(ctx context.Context, inv tasks.Invite, p record.Progress, maxWait time.Duration) (Slot, error) {
	res, err := gateAcquireScript.Run(ctx, c.rdb, c.gateKeys(inv, p),
		maxWait.Milliseconds(), StartInterval.Milliseconds(), reserveAhead.Milliseconds(), p.Key,
		probeLease.Milliseconds(), inv.RoomID, ScopeProbeLease.Milliseconds(), PaceQuiet.Milliseconds(),
		PaceStep.Milliseconds(), ProbeDelay.Milliseconds(), boolArg(p.Retries > 0 || p.Failures > 0 || !p.First429.IsZero())).Int64Slice()
	if err != nil {
		return Slot{}, fmt.Errorf("rate-limit gate of %q: %w", inv.Sender, err)
	}
	return Slot{Wait: time.Duration(res[0]) * time.Millisecond, Sent: res[1] == 3,
		Reserved: res[1] == 1 || res[1] == 3, Later: res[1] == 2, Paused: res[1] == 4,
		Trouble: res[3] == 1, At: res[2]}, nil
}

// Send marks the invite's request as going out now, unless a 429 advised a
// later time since the slot was reserved: then it returns how long to wait.
// paused is true when a pause now holds the invite; sentAt is when the
// request was marked (Redis time, ms).
func (c *Client) Send(ctx context.Context, inv tasks.Invite, p record.Progress) (wait time.Duration, paused bool, sentAt int64, err error) {
	res, err := gateSendScript.Run(ctx, c.rdb, c.gateKeys(inv, p), inv.RoomID).Int64Slice()
	if err == nil && len(res) != 2 {
		err = fmt.Errorf("unexpected answer %v", res)
	}
	if err != nil {
		return 0, false, 0, fmt.Errorf("mark invite %s sending: %w", p.Key, err)
	}
	if res[0] < 0 {
		return 0, true, 0, nil
	}
	return time.Duration(res[0]) * time.Millisecond, false, res[1], nil
}
