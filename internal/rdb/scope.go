package rdb

import "time"

// Whose is a 429? Synapse's rc_invites has three scopes (per_room keyed by
// the room, per_user keyed by the invitee, per_issuer keyed by the sender)
// besides rc_third_party_invite (the sender): a popular invitee gets 429
// with minutes of advice while the sender's other invites are accepted.
// Only a wait of the sender's scope may hold the sender's other invites
// (and move its pace); a room's holds its invites into that room; an
// invitee's holds that invite alone.
//
// The evidence is the sender's accepted requests. A token bucket answers
// 429 with the time until its next token: had the bucket that refused a
// request reserved at r with advice A been the sender's, every request of
// the sender reserved after r (past a margin for requests crossing on the
// wire) and before r + A would have been refused too. So:
//
//   - an accepted request reserved in that window (in_window) proves the
//     429 was not the sender's; so does an invite limited again after the
//     sender's requests were accepted since its previous 429;
//   - then it is the room's when another invite into the same room was
//     limited in a window where nothing into the room, but something
//     elsewhere, was accepted; else the invitee's;
//   - without such evidence it is the sender's, for now: the gate closes
//     (no request before the advised time: a sender limit never sees an
//     early request), remembering what it was before; the first accepted
//     request that contradicts it (one in flight when it came, or, for a
//     long advice, one probe request let through after ProbeDelay) undoes
//     it, pace included, and moves it to the room when that request was
//     into another room. A second invite refused after the gate closed
//     confirms it: from then on it is the sender's for good.
//
// On Synapse a 429 comes 0.5 s after its request, so the requests sent in
// that half second usually decide at once. A server that answers 429 at
// once gives no such evidence: the first 429 of an invite then holds the
// sender for its advice (at most ProbeDelay when it is long), and the
// invite's next 429 is recognised as its own.
//
// Gate fields (beside gate.go's): ok_res (the latest reservation of an
// accepted request), lim_by, lim_res, lim_adv, lim_room, lim_set_at,
// lim_sure (the provisional sender block and whether it is confirmed),
// lim_p_* (the gate as it was before it), lim_probe_at, lim_probe,
// lim_probe_until (its probe), and per room R: rb:R (the room is held
// until), rok:R (the latest reservation of an accepted request into R),
// rl:R ("res,adv,key" of the last 429 into R that was not the sender's).

// LongAdvice is the advice from which a provisional sender block lets one
// probe request through after ProbeDelay (or 8 paces, if longer), rather
// than hold every invite of the sender for the whole advice on a guess.
const LongAdvice = 2 * time.Second

// ProbeDelay is how long a provisional block with a long advice holds
// before its probe.
const ProbeDelay = 100 * time.Millisecond

// luaScope holds the evidence rules; gate.go and finish.go use them.
const luaScope = `
local function num(x) return tonumber(x or '0') or 0 end
-- margin: requests reserved this close after a limited one may have
-- crossed it on the wire; they prove nothing.
local function margin(adv) return math.min(50, math.max(2, math.floor(adv / 20))) end
local function in_window(r, res, adv) return r > res + margin(adv) and r < res + adv end
local function parse_rl(v)
  if not v then return nil end
  local res, adv, key = string.match(v, '^(%d+),(%d+),(.*)$')
  return tonumber(res), tonumber(adv), key
end
-- accepted notes requests of the sender the server accepted (reserved at
-- each of rs, into room) and undoes the blocks they contradict: the
-- provisional sender block (back to the gate it replaced; moved to its
-- room when the accepted request went elsewhere) and the room's block.
local function accepted(gate, room, rs)
  local f = redis.call('HMGET', gate, 'ok_res', 'rok:' .. room, 'lim_by', 'lim_res', 'lim_adv', 'lim_room', 'lim_sure',
    'lim_p_until', 'lim_p_blocked', 'lim_p_interval', 'lim_p_set', 'lim_p_ever', 'rb:' .. room, 'rl:' .. room)
  local ok_res, rok = num(f[1]), num(f[2])
  local undo, lift = false, false
  local lres, ladv, lkey = parse_rl(f[14])
  for _, r in ipairs(rs) do
    ok_res, rok = math.max(ok_res, r), math.max(rok, r)
    if f[3] and f[7] ~= '1' and in_window(r, num(f[4]), num(f[5])) then undo = true end
    if num(f[13]) > 0 and lres and in_window(r, lres, ladv) then lift = true end
  end
  redis.call('HSET', gate, 'ok_res', ok_res, 'rok:' .. room, rok)
  if undo then
    redis.call('HSET', gate, 'until', num(f[8]), 'blocked_until', num(f[9]), 'interval', num(f[10]),
      'pace_set_at', num(f[11]), 'limited_ever', f[12] or '0')
    if f[6] and f[6] ~= room then
      redis.call('HSET', gate, 'rl:' .. f[6], f[4] .. ',' .. f[5] .. ',' .. f[3])
    end
    redis.call('HDEL', gate, 'lim_by', 'lim_res', 'lim_adv', 'lim_room', 'lim_set_at', 'lim_sure', 'lim_p_until',
      'lim_p_blocked', 'lim_p_interval', 'lim_p_set', 'lim_p_ever', 'lim_probe_at', 'lim_probe', 'lim_probe_until')
  end
  if lift then redis.call('HDEL', gate, 'rb:' .. room) end
end
`
