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
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return {0, 4, now, 0} end
local key, room = ARGV[4], ARGV[6]
local g = redis.call('HMGET', KEYS[1], unpack(GATE_FIELDS))
local b = redis.call('HMGET', KEYS[1], 'quiet_since', 'backoff_until', 'probe', 'probe_until', 'good', 'step_at',
  'lim_by', 'lim_probe_at', 'lim_probe', 'lim_probe_until', 'lim_sure', 'blocked_until', 'rb:' .. room,
  'lim_set_at', 'lim_adv', 'lim_chk_a', 'lim_chk_b')
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
// Returns {0, now_ms} when marked sending, {-1, now_ms} when a pause holds
// the invite, else {ms to wait before asking again, now_ms}.
var gateSendScript = newScript("gateSend", stateless(luaMarkSending, `
local now = now_ms()
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return {-1, now} end
local b = redis.call('HMGET', KEYS[1], 'blocked_until', 'rb:' .. ARGV[1])
local blocked = math.max(tonumber(b[1] or '0'), tonumber(b[2] or '0'))
if blocked > now then return {blocked - now, now} end
mark_sending(KEYS[4], KEYS[5])
return {0, now}
`))

// gateLimitedScript records a 429 and decides whose it is (scope.go): the
// invitee's (only the invite waits), the room's (the sender's invites into
// that room wait) or the sender's (nothing of the sender goes before the
// advised time, and the pace adapts).
//
// KEYS[1] -> the sender's gate
// ARGV[1] -> advised delay (ms)
// ARGV[2] -> pace cap (ms)
// ARGV[3] -> when the limited request's slot was reserved (now_ms from
//
//	acquire): the pace compares it with its last change
//
// ARGV[4] -> the invite key
// ARGV[5] -> the invite's room
// ARGV[6] -> when the limited request went out (ms): the evidence of
//
//	scope.go compares it with other requests'
//
// ARGV[7] -> ProbeDelay (ms)
// ARGV[8] -> the quiet time before the pace speeds up again (ms)
//
// Returns {scope, wait_ms, why}: scope "invitee", "room" or "sender";
// wait_ms until what the scope holds opens (the advice for an invitee);
// why, in words, what decided it (for the worker's debug log).
//
// The sender's pace moves only for a confirmed sender limit (a guess sets
// none): the first ends the slow start (back to the pace before the last
// doubling of the rate, or the advice); a request limited although
// reserved at the current pace slows it by a tenth; one limited while the
// pace was speeding up sets it back to the one that worked ("good"); a
// request reserved before the pace changed does not move it (one burst
// does not compound, and the pace never ratchets up).
var gateLimitedScript = newScript("gateLimited", stateless(luaScope, `
-- Rounded up: the advised time is never placed before it really is.
local now = now_ms_up()
local advice, cap, r, key, room, s = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6])
local f = redis.call('HMGET', KEYS[1], 'ok_res', 'rok:' .. room, 'rl:' .. room, 'lim_by', 'lim_res', 'lim_adv', 'lim_sure',
  'rb:' .. room, 'lim_probe', 'lim_set_at', 'lim_chk_a', 'lim_streak')
local ok_res, rok = num(f[1]), num(f[2])
local probe_hit = f[9] == key
local lim_by, lim_res, lim_adv, sure = f[4], num(f[5]), num(f[6]), f[7] == '1'
-- Another 429 inside a provisional block's window: one token bucket tells
-- every request it refuses the same next free time (s + advice, give or
-- take the jitter of the way to the server). Another time means another
-- limit refused it, after passing the sender's: neither 429 was the
-- sender's. The same time from two more invites, or from the probe, is
-- the bucket's word: the sender's for good (one invite could be chance:
-- invites with the same limit sent together). (A whole-second advice may
-- be Retry-After's rounding: it can contradict by more than a second,
-- never confirm.)
local whole = advice % 1000 == 0 or lim_adv % 1000 == 0
local contradicts, agrees = false, false
if lim_by and lim_by ~= key and not sure and in_window(s, lim_res, lim_adv) then
  local diff = math.abs((s + advice) - (lim_res + lim_adv))
  if whole then
    contradicts = diff > 1000
  else
    contradicts = diff > 2 * margin(lim_adv)
    agrees = not contradicts and (probe_hit or redis.call('HINCRBY', KEYS[1], 'lim_agree', 1) >= 2)
  end
  if contradicts then undo_block(KEYS[1], room, true) end
end
if contradicts or (not agrees and in_window(ok_res, s, advice)) then
  -- Not the sender's. The room's, if this request was sent within the
  -- window of another invite's 429 into the room, in which nothing into
  -- the room but something elsewhere was accepted; else the invitee's.
  local lres, ladv, lkey = parse_rl(f[3])
  if lres and lkey ~= key and s < lres + ladv and not in_window(rok, lres, ladv) and in_window(ok_res, lres, ladv) then
    local untl = math.max(num(f[8]), now + advice)
    redis.call('HSET', KEYS[1], 'rb:' .. room, untl, 'rl:' .. room, s .. ',' .. advice .. ',' .. key, 'inv_at', now, 'doubt_n', 0)
    if redis.call('PTTL', KEYS[1]) < untl - now + 600000 then redis.call('PEXPIRE', KEYS[1], untl - now + 600000) end
    return {'room', untl - now, 'another invite into the room was limited while others were accepted'}
  end
  redis.call('HSET', KEYS[1], 'rl:' .. room, s .. ',' .. advice .. ',' .. key, 'inv_at', now, 'doubt_n', 0)
  if contradicts then return {'invitee', advice, 'another 429 named another next free time'} end
  return {'invitee', advice, 'a request sent after it was accepted'}
end
-- The sender's, for now or for good.
local g = redis.call('HMGET', KEYS[1], 'until', 'interval', 'pace_set_at', 'limited_ever', 'blocked_until', 'good', 'inv_at',
  'doubt')
local old_until, old, pace_set_at, ever, old_blocked = num(g[1]), num(g[2]), num(g[3]), g[4], num(g[5])
local live = lim_by and now < lim_res + lim_adv
-- The benefit of the doubt: when the sender's 429s lately (within the
-- quiet time) turned out to be its invitees' on evidence, one without
-- evidence is taken as its invitee's too — nothing else is held — unless
-- another invite's 429 named the same next free time within its window:
-- then both were the sender's. (If they were, the requests sent until that
-- second 429 came were early: at most one per request in flight.) The
-- doubt lasts DoubtRun 429s without new evidence: past that, a sender
-- limit (or evidence misread) no longer passes for its invitees'.
local history = g[7] and now - num(g[7]) < tonumber(ARGV[8])
local doubted = false
if history and not (lim_by and (sure or live)) and not probe_hit
    and redis.call('HINCRBY', KEYS[1], 'doubt_n', 1) <= DOUBT_RUN then
  local dres, dadv, dkey = parse_rl(g[8])
  if dres and dkey ~= key and in_window(s, dres, dadv) and not (advice % 1000 == 0 or dadv % 1000 == 0)
      and math.abs((s + advice) - (dres + dadv)) <= 2 * margin(dadv) then
    doubted = true
  else
    redis.call('HSET', KEYS[1], 'doubt', s .. ',' .. advice .. ',' .. key, 'rl:' .. room, s .. ',' .. advice .. ',' .. key)
    return {'invitee', advice, "no evidence, but the sender's recent 429s were its invitees'"}
  end
end
-- The check after a provisional block (gateAcquireScript lets a second
-- request go just behind the first one after it) refused too, pointing
-- past the first one's token: the bucket's word as well.
local checked = lim_by and not sure and lim_by ~= key and f[11] and not whole and in_window(s, num(f[11]), lim_adv)
  and s + advice >= num(f[11]) + lim_adv - 2 * margin(lim_adv)
local known = ever == '1' and old > 0
local why = 'a guess: no evidence'
if doubted then
  -- Two invites named the same next free time: a block for good.
  live = false
end
if agrees then why = 'the probe, or two more 429s, named the same next free time'
elseif checked then why = 'the check after a guess was refused too'
elseif sure then why = 'the limit was confirmed before' end
if probe_hit and not agrees then
  -- The probe refused with a whole-second advice: it tells nothing. The
  -- guess holds to its end; no other probe goes.
  redis.call('HDEL', KEYS[1], 'lim_probe_at')
end
if agrees or checked then
  -- Confirmed: the sender's for good; its pace is learnt from now on.
  sure = true
  redis.call('HSET', KEYS[1], 'lim_sure', 1)
  redis.call('HDEL', KEYS[1], 'lim_probe_at', 'lim_probe', 'lim_probe_until')
elseif not live then
  -- A new block: for good when the sender is paced for a known limit, the
  -- advice is within its pace (a bucket never advises more than its
  -- interval) and the sender's recent 429s were all its own; or when it
  -- is the third guess in a row that nothing contradicted (the sender
  -- keeps being limited and nothing flows past it); a guess otherwise.
  local history = g[7] and now - num(g[7]) < tonumber(ARGV[8])
  local streak = 1
  if lim_by and not sure and num(g[7]) < num(f[10]) then streak = num(f[12]) + 1 end
  redis.call('HSET', KEYS[1], 'lim_streak', streak)
  local paced = known and advice <= old and not history
  sure = paced or streak >= 3 or doubted
  if doubted then why = "another invite's 429 named the same next free time"
  elseif paced then why = 'within the pace of a known limit'
  elseif streak >= 3 then why = 'a third guess in a row with nothing against it' end
  if lim_by and f[7] ~= '1' and old_blocked > now then
    -- The previous guess still holds: undoing this one undoes it too (the
    -- gate goes back to what it was before either).
    redis.call('HSET', KEYS[1], 'lim_by', key, 'lim_res', s, 'lim_adv', advice, 'lim_room', room, 'lim_set_at', now,
      'lim_sure', sure and 1 or 0)
  else
    redis.call('HSET', KEYS[1], 'lim_by', key, 'lim_res', s, 'lim_adv', advice, 'lim_room', room, 'lim_set_at', now,
      'lim_sure', sure and 1 or 0, 'lim_p_until', old_until, 'lim_p_blocked', old_blocked, 'lim_p_interval', old,
      'lim_p_set', pace_set_at, 'lim_p_ever', ever or '0')
  end
  redis.call('HDEL', KEYS[1], 'lim_probe', 'lim_probe_until', 'lim_probe_at', 'lim_chk_a', 'lim_chk_b', 'lim_agree')
  -- A guess lets one probe through after ProbeDelay, rather than hold
  -- every invite of the sender for the whole advice, when the sender's
  -- recent 429s (within the quiet time) turned out not to be its own (then
  -- this one most likely is not either), or when the answer came after
  -- the advised time counted from the request (Synapse pauses 0.5 s
  -- before a 429 and counts from before the pause: the probe is not early
  -- by the server's clock). Otherwise it holds for the advice (no request
  -- before the advised time), then the check decides.
  if not sure and (history or now >= s + advice) then
    redis.call('HSET', KEYS[1], 'lim_probe_at', now + tonumber(ARGV[7]))
  end
end
local untl = math.max(old_until, now + advice)
local blocked = math.max(old_blocked, now + advice)
if not sure and live and whole and lim_by ~= key then
  -- A whole-second advice inside a guess's window that does not
  -- contradict it says nothing new (Retry-After rounds up): the guess's
  -- hold stands as it is.
  return {'sender', math.max(old_blocked - now, 0), 'a guess: no evidence (a whole-second advice within another guess)'}
end
if not sure then
  -- A guess holds the sender for the advice, but sets no pace: a wrong
  -- guess leaves nothing behind once it is undone or its window passed.
  redis.call('HSET', KEYS[1], 'until', untl, 'blocked_until', blocked)
  if redis.call('PTTL', KEYS[1]) < untl - now + 600000 then redis.call('PEXPIRE', KEYS[1], untl - now + 600000) end
  return {'sender', untl - now, why}
end
local interval = old
if ever ~= '1' then
  -- The first confirmed limit ends the slow start: back to the pace before
  -- the last doubling of the rate, which the server still accepted.
  interval = math.max(advice, lim_adv, old * 2)
elseif g[6] then
  -- Limited while speeding up (whenever its request was reserved): back
  -- to the pace that worked.
  interval = math.max(advice, num(g[6]))
elseif r >= pace_set_at then
  if old > 0 then
    -- Limited although reserved at the current pace: the pace is too fast.
    interval = math.max(advice, math.ceil(old * 11 / 10))
  else
    interval = advice
  end
end
interval = math.min(interval, tonumber(ARGV[2]))
if interval ~= old then redis.call('HSET', KEYS[1], 'pace_set_at', now) end
redis.call('HSET', KEYS[1], 'until', untl, 'interval', interval, 'quiet_since', now, 'blocked_until', blocked,
  'limited_ever', 1, 'step_at', now + tonumber(ARGV[8]))
redis.call('HDEL', KEYS[1], 'good', 'step_n')
if redis.call('PTTL', KEYS[1]) < untl - now + 600000 then redis.call('PEXPIRE', KEYS[1], untl - now + 600000) end
return {'sender', untl - now, why .. '; pace ' .. interval .. ' ms'}
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

// Limited records a 429 of the invite's request (reservedAt: when its slot
// was reserved; sentAt: when it went out; advice: its advised delay) and
// decides whose it is (scope.go).
func (c *Client) Limited(ctx context.Context, inv tasks.Invite, p record.Progress, advice time.Duration, reservedAt, sentAt int64) (LimitDecision, error) {
	ms := (advice + time.Millisecond - 1).Milliseconds() // round up: never early
	res, err := gateLimitedScript.Run(ctx, c.rdb, []string{c.k.gate(GateName(inv.Sender, p.Path))}, ms, MaxGateInterval.Milliseconds(),
		reservedAt, p.Key, inv.RoomID, sentAt, ProbeDelay.Milliseconds(), PaceQuiet.Milliseconds()).Slice()
	if err == nil && len(res) != 3 {
		err = fmt.Errorf("unexpected answer %v", res)
	}
	if err != nil {
		return LimitDecision{}, fmt.Errorf("rate-limit gate of %q: %w", inv.Sender, err)
	}
	scope, _ := res[0].(string)
	wait, _ := res[1].(int64)
	why, _ := res[2].(string)
	return LimitDecision{Scope: record.LimitScope(scope), Wait: time.Duration(wait) * time.Millisecond, Why: why}, nil
}

// LimitDecision is whose a 429 is, as the gate decided it.
type LimitDecision struct {
	Scope record.LimitScope
	// Wait is until what the scope holds opens (the advice, for an invitee).
	Wait time.Duration
	// Why says in words what decided it, for logs.
	Why string
}
