package rdb

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// A 429 met by an invite: whose it is (the evidence rules are scope.go's)
// and, for a confirmed sender limit, the sender's pace (gate.go has the
// gate's fields and the rest of its life).

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
// ARGV[9] -> "1" when the invite was answered 429 before
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
// does not compound, and the pace never ratchets up). Neither is slower
// than the spacing of the requests the server accepted between two such
// 429s (sl_res, sl_n): a pace right at the server's rate, where one request
// now and then arrives a little early, stays there rather than settling a
// tenth slower.
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
  'doubt', 'sl_res', 'sl_n', 'doubt_rep')
local old_until, old, pace_set_at, ever, old_blocked = num(g[1]), num(g[2]), num(g[3]), g[4], num(g[5])
local live = lim_by and now < lim_res + lim_adv
-- The benefit of the doubt: when the sender's 429s lately (within the
-- quiet time) turned out to be its invitees' on evidence, one without
-- evidence is taken as its invitee's too — nothing else is held — unless
-- another invite's 429 named the same next free time within its window:
-- then both were the sender's. (If they were, the requests sent until that
-- second 429 came were early: at most one per request in flight.) The
-- doubt lasts DoubtRun 429s without new evidence: past that, a sender
-- limit (or evidence misread) no longer passes for its invitees'. Two
-- invites both answered 429 before do not confirm it: invitees limited on
-- their own, retried at their advice, meet by chance (bench I20c: 300 ms
-- and 400 ms advice ending 5 ms apart paced the sender at 300 ms), while
-- a sender's limit refuses fresh invites too (doubt_rep: the reference
-- 429's invite was answered 429 before).
local history = g[7] and now - num(g[7]) < tonumber(ARGV[8])
local doubted = false
if history and not (lim_by and (sure or live)) and not probe_hit
    and redis.call('HINCRBY', KEYS[1], 'doubt_n', 1) <= DOUBT_RUN then
  local dres, dadv, dkey = parse_rl(g[8])
  if dres and dkey ~= key and not (ARGV[9] == '1' and g[11] == '1') and in_window(s, dres, dadv) and not (advice % 1000 == 0 or dadv % 1000 == 0)
      and math.abs((s + advice) - (dres + dadv)) <= 2 * margin(dadv) then
    doubted = true
  else
    redis.call('HSET', KEYS[1], 'doubt', s .. ',' .. advice .. ',' .. key, 'doubt_rep', ARGV[9], 'rl:' .. room, s .. ',' .. advice .. ',' .. key)
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
-- What the server accepted since the sender's previous limit: its bucket
-- was empty when that 429 was decided and is empty now, so the n requests
-- it accepted in between (sent after the first, before this one) took the
-- tokens of s - sl_res and at most one more: the real interval is at most
-- (s - sl_res) / (n - 1). A pace never needs to be slower than that.
local sl_res, sl_n = num(g[9]), num(g[10])
local spaced = math.huge
if g[9] and s > sl_res and sl_n >= 3 then spaced = math.ceil((s - sl_res) / (sl_n - 1)) end
if not g[9] or s > sl_res then redis.call('HSET', KEYS[1], 'sl_res', s, 'sl_n', 0) end
if ever ~= '1' then
  -- The first confirmed limit ends the slow start: back to the pace before
  -- the last doubling of the rate, which the server still accepted.
  interval = math.max(advice, lim_adv, old * 2)
elseif g[6] then
  -- Limited while speeding up (whenever its request was reserved): back
  -- to the pace that worked, or the accepted requests' spacing if closer.
  interval = math.max(advice, math.min(num(g[6]), spaced))
elseif r >= pace_set_at and not (g[9] and s - sl_res < old) then
  -- (Within one pace of the previous limit the bucket may not have had a
  -- token back yet: that 429 belongs to the same episode, not to the pace.)
  if old > 0 then
    -- Limited although reserved at the current pace: the pace is too fast
    -- (slower by a tenth), unless the accepted requests' spacing says it
    -- is about right (then one request met the bucket a little early, and
    -- the pace moves to that spacing, never faster than it was).
    interval = math.max(advice, old, math.min(math.ceil(old * 11 / 10), spaced))
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

// Limited records a 429 of the invite's request (reservedAt: when its slot
// was reserved; sentAt: when it went out; advice: its advised delay) and
// decides whose it is (scope.go).
func (c *Client) Limited(ctx context.Context, inv tasks.Invite, p record.Progress, advice time.Duration, reservedAt, sentAt int64) (LimitDecision, error) {
	ms := (advice + time.Millisecond - 1).Milliseconds() // round up: never early
	res, err := gateLimitedScript.Run(ctx, c.rdb, []string{c.k.gate(GateName(inv.Sender, p.Path))}, ms, MaxGateInterval.Milliseconds(),
		reservedAt, p.Key, inv.RoomID, sentAt, ProbeDelay.Milliseconds(), PaceQuiet.Milliseconds(), boolArg(!p.First429.IsZero())).Slice()
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
