package rdb

import "time"

// Whose is a 429? Synapse's rc_invites has three scopes (per_room keyed by
// the room, per_user keyed by the invitee, per_issuer keyed by the sender)
// besides rc_third_party_invite (the sender): a popular invitee gets 429
// with minutes of advice while the sender's other invites are accepted.
// Only a wait of the sender's scope may hold the sender's other invites
// (and move its pace); a room's holds its invites into that room; an
// invitee's holds that invite alone. docs/semantics.md ("Whose is a 429")
// has the table and worked examples; this is the summary.
//
// The evidence is the sender's other requests compared by SEND time (Redis
// time when each was marked in flight). A token bucket answers 429 with
// the time until its next token: had the bucket that refused a request
// sent at s with advice A been the sender's, every request of the sender
// sent after s (past a margin for requests crossing on the wire) and
// before s + A would have been refused too, with the same next free time.
//
//   - an accepted request sent in that window (in_window) proves the 429
//     was not the sender's: the room's when another invite into the same
//     room was limited in a window where nothing into the room, but
//     something elsewhere, was accepted; else the invitee's;
//   - two 429s in one window naming different next free times
//     (contradiction) are not the sender's either; two more naming the
//     same one (lim_agree) confirm the sender;
//   - with no evidence, while the sender's 429s lately (PaceQuiet) were
//     its invitees' on evidence (inv_at), the 429 is the invitee's on the
//     benefit of the doubt (doubt) unless another invite's agrees;
//   - else it is a guess: the sender's, for now (lim_sure 0). A guess
//     holds every invite of the sender for its advice and sets no pace;
//     a probe goes after ProbeDelay only when the answer came after the
//     advice had passed (Synapse's pause); after the hold a check pair
//     (lim_chk_a, lim_chk_b) tells. An accepted request in its window
//     undoes it (undo_block: back to the lim_p_* snapshot); agreement,
//     a refused check or the third guess in a row (lim_streak) confirm it.
//
// Gate fields (beside gate.go's): ok_res (the latest send time of an
// accepted request; named before send times), lim_by, lim_res (its send
// time), lim_adv, lim_room,
// lim_set_at, lim_sure, lim_agree, lim_streak, lim_p_* (the gate before
// the guess), lim_probe*, lim_chk*, inv_at, doubt; sl_res (the send time
// of the latest confirmed sender 429) and sl_n (accepted requests sent
// after it: the pace's evidence, limited.go); per room R: rb:R (the
// room is held until), rok:R (the latest send time of an accepted request
// into R), rl:R ("sent,adv,key" of the last 429 into R that was not the
// sender's).

// ProbeDelay is how long a provisional block holds every invite of the
// sender before it lets one through as its probe (the invites due in the
// meantime wait at most this, and the probe's answer). A probe into a real
// sender limit is one request before its advised time: it happens only
// when nothing else told the limit's scope first (on Synapse, the requests
// sent during its 0.5 s pause usually do), once per guess.
const ProbeDelay = 20 * time.Millisecond

// ScopeProbeLease is how long a guess's probe keeps its turn without an
// answer: longer than Synapse's 0.5 s pause before a 429, so a probe into
// a real limit is answered before another goes; a probe that hangs (a
// timeout on its way) then lets the next one try.
const ScopeProbeLease = 600 * time.Millisecond

// DoubtRun is how many 429s in a row without evidence get the benefit of
// the doubt (the invitee's, since the sender's recent 429s were its
// invitees' on evidence): a few, so a single misread piece of evidence (a
// request that reached the server later than it was marked as sent) does
// not pass a sender limit off as its invitees' for the whole quiet time.
const DoubtRun = 2

// luaScope holds the evidence rules; gate.go and finish.go use them.
const luaScope = `
local function num(x) return tonumber(x or '0') or 0 end
local DOUBT_RUN = 2 -- DoubtRun (TestScopeLuaConstants checks)
-- margin: requests reserved this close after a limited one (10 ms, or a
-- tenth of a short advice) may have crossed it on the wire; they prove
-- nothing.
local function margin(adv) return math.min(10, math.max(1, math.floor(adv / 10))) end
local function in_window(r, res, adv) return r > res + margin(adv) and r < res + adv end
local function parse_rl(v)
  if not v then return nil end
  local res, adv, key = string.match(v, '^(%d+),(%d+),(.*)$')
  return tonumber(res), tonumber(adv), key
end
-- undo_block undoes the provisional sender block: back to the gate it
-- replaced; its 429 goes on record as the last one into its room that was
-- not the sender's (with room_ok false: the request that contradicts it
-- went into another room).
local function undo_block(gate, room_ok, evidence)
  if evidence then redis.call('HSET', gate, 'inv_at', now_ms(), 'doubt_n', 0) end
  local l = redis.call('HMGET', gate, 'lim_by', 'lim_res', 'lim_adv', 'lim_room', 'lim_p_until', 'lim_p_blocked',
    'lim_p_interval', 'lim_p_set', 'lim_p_ever')
  redis.call('HSET', gate, 'until', num(l[5]), 'blocked_until', num(l[6]), 'interval', num(l[7]),
    'pace_set_at', num(l[8]), 'limited_ever', l[9] or '0')
  if l[4] and l[4] ~= room_ok then
    redis.call('HSET', gate, 'rl:' .. l[4], l[2] .. ',' .. l[3] .. ',' .. l[1])
  end
  redis.call('HDEL', gate, 'lim_by', 'lim_res', 'lim_adv', 'lim_room', 'lim_set_at', 'lim_sure', 'lim_p_until',
    'lim_p_blocked', 'lim_p_interval', 'lim_p_set', 'lim_p_ever', 'lim_probe_at', 'lim_probe', 'lim_probe_until',
    'lim_chk_a', 'lim_chk_b', 'lim_agree')
end
-- accepted notes requests of the sender the server accepted (reserved at
-- each of rs, into room) and undoes the blocks they contradict: the
-- provisional sender block (back to the gate it replaced; moved to its
-- room when the accepted request went elsewhere) and the room's block.
local function accepted(gate, room, rs)
  local f = redis.call('HMGET', gate, 'ok_res', 'rok:' .. room, 'lim_by', 'lim_res', 'lim_adv', 'lim_room', 'lim_sure',
    'lim_chk_a', 'lim_set_at', 'sl_res', '', '', 'rb:' .. room, 'rl:' .. room)
  local ok_res, rok = num(f[1]), num(f[2])
  local undo, lift = false, false
  local lres, ladv, lkey = parse_rl(f[14])
  local sl_n = 0
  for _, r in ipairs(rs) do
    ok_res, rok = math.max(ok_res, r), math.max(rok, r)
    -- Sent after the sender's last limit: the pace's evidence (limited.go).
    if f[10] and r > num(f[10]) then sl_n = sl_n + 1 end
    -- Inside the block's window (from the 429's request to the end of the
    -- hold, which counts the advice from the answer), or the check's.
    -- (Evidence of another limit only inside the server's window; later,
    -- in the hold, it only shows the sender may send again.)
    local lres, ladv = num(f[4]), num(f[5])
    if f[3] and f[7] ~= '1' then
      if in_window(r, lres, ladv) or (f[8] and in_window(r, num(f[8]), ladv)) then
        undo = 'evidence'
      elseif not undo and in_window(r, lres, num(f[9]) + ladv - lres) then
        undo = 'release'
      end
    end
    if num(f[13]) > 0 and lres and in_window(r, lres, ladv) then lift = true end
  end
  redis.call('HSET', gate, 'ok_res', ok_res, 'rok:' .. room, rok)
  if sl_n > 0 then redis.call('HINCRBY', gate, 'sl_n', sl_n) end
  if undo then undo_block(gate, room, undo == 'evidence') end
  if lift then redis.call('HDEL', gate, 'rb:' .. room) end
end
`
