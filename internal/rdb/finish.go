package rdb

import (
	"context"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// finishScript records final results, counts them, and appends them to the
// results stream, exactly once per generation.
//
// KEYS[1] -> {prefix}:results
// KEYS[1+5(i-1)+1..5] -> per invite i: its record, its campaign's counts,
//
//	its sender's gate of its path (GateName), that gate's fails set, its
//	campaign's meta
//
// KEYS[#KEYS] -> the caller's held set ({prefix}:worker:{id}:held,
//
//	takeover.go): a final invite needs no takeover, so it leaves the set
//	here rather than at the worker's next pruning (two reads and a claim
//	per invite)
//
// ARGV[1] -> stream MAXLEN (0: unbounded)
// ARGV[2] -> record TTL in ms (0: none; Options.FinishedTTL)
// ARGV[3] -> the longest pace (ms; MaxGateInterval)
// ARGV[4..] -> per invite i: invite key, campaign (the record's), task ID,
//
//	attempts delta, requests delta (beyond the one counted when the request
//	was marked in flight), rate-limited delta, the last 429's scope ("" for
//	none), its room, "1" when the server let the answering request through
//	its rate limits, when that request went out (ms), "1" when the answer
//	shows the sender's server working, the status name,
//	possible_duplicate ("1"|"0"), "1" when the record may leave its medium
//	out (its address spells it: tasks.MediumOf), n, then n field/value pairs (finished_at,
//	and http_status, status_code, status, errcode, error,
//	possible_duplicate, delivery, user_id, joined_at_ms … when not empty or
//	zero; a Success has no status_code or status: finalFields)
//
// A Success with a delivery counts "delivery:{delivery}"; a joined_at_ms
// (already_joined) counts "joined" (the funnel, track.go).
//
// An accepted request is evidence for the gate: it may undo a provisional
// sender block or a room's block it contradicts (scope.go), once per gate
// and room of the batch. An answer that shows the server working ends the
// sender's failures (backoff.go), once per gate of the batch.
//
// The stream entry has every field (empty ones as "", zero counts as 0).
// The record drops the fields only a delivery in flight needs (inflight,
// owner, begins, and task_id when it is the task ID of the key and
// generation), zero counts and generation, and the medium its address
// spells: a finished record keeps what results, status, re-imports and the
// dashboard read (issue 26). It also drops the room_id and sender every
// finished record of its campaign shares: the campaign's first finish keeps
// its record's in the meta hash as finished_room_id and finished_sender,
// never changed after, and a finished record with the same room or sender
// leaves it out (readers fill it in: sharedFill, shared.go). Meta's room_id and
// sender cannot serve: they turn "*" once two invites disagree, and a record
// must read back the same whatever is registered later. Re-inviting a
// finished invite (--again) writes its whole identity again.
//
// Returns one reply per invite: 1 when recorded, 0 when the invite was
// already final, {"error", message}.
//
// It keeps each campaign's pace for its ETA (record.OutlookOf):
// "pace_gap_ms", a moving average (weight 1/10) of the time between two
// finished invites, and "pace_at_ms", the last finish. A gap is counted at
// most 4 times the average, so a worker stopped for a night does not make
// the next hours' estimate absurd. The pace moves once per batch: a batch's
// finishes are one gap from the last finish and 0 from each other.
var finishScript = newScript("finish", script(luaBatch, luaScope, luaRecovered, `
local maxlen, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
local held_set = (#KEYS - 1) % 5 == 1 and KEYS[#KEYS] or nil
local finished, finished_order = {}, {}
local flows, flow_order = {}, {}
local well, well_order = {}, {}
-- shared[meta]: the room and sender the campaign's finished records leave
-- out (read once per campaign of the batch).
local shared = {}
-- keep_count writes a count the record keeps, or drops a zero one it had
-- (a missing count reads as 0).
local function keep_count(set, del, name, n, had)
  if n ~= 0 then table.insert(set, name); table.insert(set, n) elseif had then table.insert(del, name) end
end
local function one(b, key, campaign, tid, da, dr, dl, scope, room, acc, res, ok, status, dup, spelt, first, last)
  local rec, counts, gate = KEYS[b + 1], KEYS[b + 2], KEYS[b + 3]
  local cur = redis.call('HMGET', rec, 'state', 'campaign', 'room_id', 'medium', 'address', 'sender',
    'generation', 'attempts', 'requests', 'rate_limited', 'enqueued_at', 'task_id')
  if cur[1] == ST.done then return 0 end
  if not cur[1] then return {'error', 'no record (deleted while it was being sent?)'} end
  if cur[2] and cur[2] ~= campaign then
    return {'error', 'record belongs to campaign ' .. cur[2] .. ', not ' .. campaign}
  end
  check('finish', cur[1], ST.done)
  local attempts = tonumber(cur[8] or '0') + da
  local requests = tonumber(cur[9] or '0') + dr
  local limited = tonumber(cur[10] or '0') + dl
  -- What only a delivery in flight needs goes, and so do zero counts (a
  -- missing field reads as empty or 0): the in-flight mark, the
  -- delivery's owner and begin count, and the task ID when it is the one
  -- the key and generation give.
  local set, del = {'state', ST.done}, {'inflight', 'owner', 'begins'}
  if cur[12] == tid then table.insert(del, 'task_id') end
  if cur[7] == '0' then table.insert(del, 'generation') end
  -- The medium the address spells: readers take it from the address.
  if spelt == '1' then table.insert(del, 'medium') end
  -- The room and sender the campaign's finished records share.
  if cur[3] and cur[6] then
    local meta = KEYS[b + 5]
    local s = shared[meta]
    if not s then
      s = redis.call('HMGET', meta, 'finished_room_id', 'finished_sender')
      if not s[1] then s[1] = cur[3]; redis.call('HSET', meta, 'finished_room_id', s[1]) end
      if not s[2] then s[2] = cur[6]; redis.call('HSET', meta, 'finished_sender', s[2]) end
      shared[meta] = s
    end
    if s[1] == cur[3] then table.insert(del, 'room_id') end
    if s[2] == cur[6] then table.insert(del, 'sender') end
  end
  keep_count(set, del, 'attempts', attempts, cur[8])
  keep_count(set, del, 'requests', requests, cur[9])
  keep_count(set, del, 'rate_limited', limited, cur[10])
  for j = first, last do table.insert(set, ARGV[j]) end
  redis.call('HSET', rec, unpack(set))
  redis.call('HDEL', rec, unpack(del))
  count(counts, 'state:' .. cur[1], -1)
  count(counts, 'state:' .. ST.done, 1)
  count(counts, 'status:' .. status, 1)
  count(counts, 'requests', dr)
  count(counts, 'rate_limited', dl)
  if dl ~= 0 and scope ~= '' then count(counts, 'limited:' .. scope, dl) end
  if dup == '1' then count(counts, 'possible_duplicates', 1) end
  local f = {}
  for j = first, last, 2 do f[ARGV[j]] = ARGV[j + 1] end
  if f.delivery and status == 'Success' then count(counts, 'delivery:' .. f.delivery, 1) end
  if f.joined_at_ms then count(counts, 'joined', 1) end
  if acc == '1' and res > 0 then
    local k = gate .. ' ' .. room
    if not flows[k] then flows[k] = {gate = gate, room = room, rs = {}}; table.insert(flow_order, k) end
    table.insert(flows[k].rs, res)
  end
  if ok == '1' and not well[gate] then well[gate] = KEYS[b + 4]; table.insert(well_order, gate) end
  if not finished[counts] then table.insert(finished_order, counts) end
  finished[counts] = (finished[counts] or 0) + 1
  local function v(x) return x or '' end
  local entry = {'key', key, 'task_id', tid, 'campaign', v(cur[2] or campaign), 'room_id', v(cur[3]), 'medium', v(cur[4]),
    'address', v(cur[5]), 'sender', v(cur[6]), 'generation', cur[7] or '0',
    'status_code', f.status_code or '0', 'status', status, 'http_status', f.http_status or '0', 'errcode', v(f.errcode), 'error', v(f.error),
    'attempts', attempts, 'requests', requests, 'rate_limited', limited, 'possible_duplicate', dup,
    'enqueued_at', v(cur[11]), 'finished_at', v(f.finished_at), 'delivery', v(f.delivery), 'user_id', v(f.user_id)}
  if maxlen > 0 then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', unpack(entry))
  else
    redis.call('XADD', KEYS[1], '*', unpack(entry))
  end
  if ttl > 0 then redis.call('PEXPIRE', rec, ttl) end
  return 1
end
local out, i, n = {}, 4, 0
while i <= #ARGV do
  local first, last = i + 15, i + 14 + 2 * tonumber(ARGV[i + 14])
  local ok, res = pcall(one, 1 + 5 * n, ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]),
    tonumber(ARGV[i + 5]), ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], tonumber(ARGV[i + 9]), ARGV[i + 10], ARGV[i + 11],
    ARGV[i + 12], ARGV[i + 13], first, last)
  if not ok then res = failure(res) end
  -- A final invite (recorded now or before) leaves the held set; not one
  -- whose write failed: a write refused for want of memory leaves the
  -- script clean, so Redis refuses the batch's next invites too.
  if held_set and type(res) == 'number' then redis.call('SREM', held_set, ARGV[i]) end
  table.insert(out, res)
  i = last + 1
  n = n + 1
end
apply_counts()
for _, k in ipairs(flow_order) do accepted(flows[k].gate, flows[k].room, flows[k].rs) end
for _, gate in ipairs(well_order) do
  if redis.call('HGET', gate, 'trouble') == '1' then recovered(gate, well[gate], tonumber(ARGV[3])) end
end
-- The pace, once per campaign of the batch.
local now
for _, counts in ipairs(finished_order) do
  local k = finished[counts]
  now = now or now_ms()
  local g = redis.call('HMGET', counts, 'pace_gap_ms', 'pace_at_ms')
  local avg, at = tonumber(g[1]), tonumber(g[2])
  if at then
    local gap = now - at
    if avg then gap = math.min(gap, 4 * avg); avg = avg * 0.9 + gap * 0.1 else avg = gap end
    avg = avg * 0.9 ^ (k - 1)
    redis.call('HSET', counts, 'pace_gap_ms', string.format('%.1f', avg), 'pace_at_ms', now)
  else
    redis.call('HSET', counts, 'pace_at_ms', now)
  end
end
return out
`))

type finishReq struct {
	inv tasks.Invite
	p   record.Progress
	u   record.AttemptUpdate
	f   record.Final
}

type finishRes struct {
	first bool
	err   error
}

// Finish records an invite's final result once (finishScript), in a batch
// with those of other deliveries. first is false when the invite was
// already final.
func (c *Client) Finish(ctx context.Context, inv tasks.Invite, p record.Progress, u record.AttemptUpdate, f record.Final) (bool, error) {
	r, err := c.finishes.do(ctx, finishReq{inv: inv, p: p, u: u, f: f})
	if err == nil {
		err = r.err
	}
	if err != nil {
		return false, fmt.Errorf("record result of invite %s: %w", p.Key, err)
	}
	return r.first, nil
}

// writeFinishes runs finishScript once for a batch.
func (c *Client) writeFinishes(ctx context.Context, reqs []finishReq) ([]finishRes, error) {
	keys := make([]string, 0, 2+5*len(reqs))
	keys = append(keys, c.k.results())
	args := make([]any, 0, 3+len(reqs)*(15+2*10))
	args = append(args, max(c.opts.StreamMaxLen, 0), c.opts.FinishedTTL.Milliseconds(), MaxGateInterval.Milliseconds())
	for _, r := range reqs {
		keys = append(keys, c.k.invite(r.p.Key), c.k.counts(r.p.Campaign), c.k.gate(GateName(r.inv.Sender, r.p.Path)), c.k.fails(GateName(r.inv.Sender, r.p.Path)),
			c.k.meta(r.p.Campaign))
		fields := finalFields(r.f)
		args = append(args, r.p.Key, r.p.Campaign, r.inv.TaskID(), r.u.Attempts, r.u.RequestsDelta, r.u.RateLimited,
			string(r.u.LimitScope), r.inv.RoomID, boolArg(r.u.Accepted), r.u.SentAt, boolArg(r.u.Recovers),
			r.f.Status.String(), boolArg(r.f.PossibleDuplicate), boolArg(tasks.MediumOf(r.inv.Address) == r.inv.Medium),
			len(fields)/2)
		args = append(args, fields...)
	}
	if c.opts.WorkerID != "" {
		keys = append(keys, c.k.held(c.opts.WorkerID))
	}
	replies, err := finishScript.Run(ctx, c.rdb, keys, args...).Slice()
	if err == nil && len(replies) != len(reqs) {
		err = fmt.Errorf("%d replies for %d invites", len(replies), len(reqs))
	}
	if err != nil {
		return nil, err
	}
	out := make([]finishRes, len(reqs))
	for i, reply := range replies {
		switch x := reply.(type) {
		case int64:
			out[i].first = x == 1
		default:
			out[i].err = fmt.Errorf("unexpected answer %q", replyStrings(reply))
		}
	}
	return out, nil
}
