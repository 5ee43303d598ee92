package rdb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// beginScript starts (or resumes) the processing of delivered tasks, and,
// when the sender's gate is open (luaGateOpen: the common case), marks each
// one's first request in flight in the same round trip, as
// gateAcquireScript would — one script per invite instead of two.
//
// KEYS[1] -> {prefix}:campaigns
// KEYS[1+9(i-1)+1..9] -> per invite i: its record; the counts and index of
//
//	campaign C (the one its record is expected to belong to); its
//	campaign's pause; its sender's pause; its sender's gate; the counts of
//	campaign T (its task's campaign, for a record created here); the lists
//	(index.go) of C and of T (a record created here goes to the end of T's)
//
// KEYS[#KEYS-1] -> {prefix}:workers (liveness.go)
// KEYS[#KEYS] -> the caller's held set ({prefix}:worker:{id}:held, takeover.go)
//
// ARGV[1..] -> per invite i: invite key, the task's generation,
//
//	try ("1": the caller may send now — it
//	knows an identity server), final_on_5xx ("1": an ambiguous attempt
//	needs no re-check before the next), C, T, the task ID, the room ("" for
//	a reference, tasks.InviteRef: the record's, which the reply then
//	carries), n, then
//	n field/value pairs used only when no record exists (a task enqueued
//	without the producer's registration) or it is of an older generation;
//	n = 0 omits them (the common case: the producer registered the invite),
//	and the answer is then {"adopt"} (nothing written) when they are needed
//
// ARGV[#ARGV] -> the caller's worker ID ("" for none: nothing is marked)
//
// The delivery marks the record with the worker's ID ("owner") and lists
// the invite in the worker's held set, so that another worker takes it over
// if this one dies (takeover.go), and counts itself in "begins" (a claim
// refuses a record begun again since it was read).
//
// Returns one reply per invite: {"stale"} when the record belongs to a
// newer generation; {"final"} when this generation already has its final
// result (redelivery: never send again) or was cancelled; {"taken"} when
// another delivery has it (nothing written): the record is active and held
// by another live worker, or it belongs to another task ID (a takeover's
// re-delivery, or the task a takeover replaced) and is not an orphan (active
// with no live owner); {"held", scope,
// since_ms} when a pause holds the invite (its record moves to "paused");
// {"adopt"} when the record must be created (or replaced) from the
// fields omitted (nothing was written: call again with them);
// {"rekey", campaign} when the record belongs to another campaign than C
// (nothing was written: call again with that campaign's keys);
// {"error", message}; else {"go"|"sent", retries, ambiguous, first_429_ms,
// not_before_ms, now_ms, trouble, campaign, failures}: the progress
// the delivery goes on from, and the campaign whose counters it moves
// (for a reference, followed by the record's room_id, medium, address,
// id_server and enqueued_at);
// "sent" when the
// request is marked in flight and counted (its gate slot was reserved at
// now_ms; trouble is 1 while the sender has ambiguous failures since its
// last success, see backoff.go), which it is only when the gate is open
// (luaGateOpen) and the invite's room is not held (scope.go). A record left "inflight" by a worker that
// died mid-request is turned into one ambiguous attempt here, so the caller
// re-checks before resending (and nothing is marked sent).
var beginScript = newScript("begin", script(luaForget, luaBatch, luaGateOpen, `
local now = now_ms()
local me, workers, held = ARGV[#ARGV], KEYS[#KEYS - 1], KEYS[#KEYS]
local lives = {}
local function alive(w)
  if w == '' then return false end
  if lives[w] == nil then
    local s = redis.call('ZSCORE', workers, w)
    lives[w] = (s and tonumber(s) >= now) or false
  end
  return lives[w]
end
local pauses, gates = {}, {}
local function pause_since(key)
  if pauses[key] == nil then pauses[key] = redis.call('HGET', key, 'since_ms') or false end
  return pauses[key]
end
local function gate_of(key, room)
  if gates[key] == nil then
    local g = redis.call('HMGET', key, unpack(GATE_FIELDS))
    gates[key] = {gate_open(g, now), g[5] == '1', rooms = {}}
  end
  local g = gates[key]
  if g.rooms[room] == nil then
    g.rooms[room] = tonumber(redis.call('HGET', key, 'rb:' .. room) or '0') <= now
  end
  return {g[1] and g.rooms[room], g[2]}
end
local function one(b, key, gen, try, final5xx, c_name, t_name, tid, room, first, last)
  local rec, counts = KEYS[b + 1], KEYS[b + 2]
  local cur = redis.call('HMGET', rec, 'state', 'generation', 'inflight', 'campaign', 'retries', 'ambiguous',
    'first_429_ms', 'not_before_ms', 'attempts', 'requests', 'failures', 'owner', 'task_id', 'begins',
    'room_id', 'medium', 'address', 'id_server', 'enqueued_at')
  local ref = room == '' -- a reference (BeginRef): the record has the invite
  if ref then room = cur[15] or '' end
  if cur[1] then
    local g = tonumber(cur[2] or '0')
    if g > gen then return {'stale'} end
    if cur[4] and cur[4] ~= c_name then return {'rekey', cur[4]} end
    if g < gen then
      if first > last then return {'adopt'} end
      forget(rec, key, counts, KEYS[b + 3], KEYS[b + 8])
      cur = {false}
    end
  end
  local campaign = c_name
  if not cur[1] then
    if first > last then return {'adopt'} end
    campaign, counts = t_name, KEYS[b + 7]
    check('adopt', false, ST.queued)
    local set = {'state', ST.queued}
    if gen > 0 then table.insert(set, 'generation'); table.insert(set, gen) end -- missing reads as 0
    -- The end of campaign T's list (index.go).
    local pos = redis.call('RPUSH', KEYS[b + 9], key)
    table.insert(set, 'ix'); table.insert(set, pos)
    for j = first, last do table.insert(set, ARGV[j]) end
    redis.call('HSET', rec, unpack(set))
    redis.call('HINCRBY', counts, 'state:' .. ST.queued, 1)
    redis.call('HINCRBY', counts, 'indexed', 1)
    redis.call('SADD', KEYS[1], campaign)
    cur = {ST.queued, false, false, campaign}
  end
  if cur[1] == ST.done or cur[1] == ST.cancelled then return {'final'} end -- cancelled: never sent
  local owner = cur[12] or ''
  if cur[1] == ST.active and owner ~= me and alive(owner) then return {'taken'} end
  if cur[13] and cur[13] ~= tid and not (cur[1] == ST.active and not alive(owner)) then return {'taken'} end
  for i, pk in ipairs({KEYS[b + 4], KEYS[b + 5]}) do
    local since = pause_since(pk)
    if since then
      move(counts, rec, ST.paused, cur[1], 'hold')
      return {'held', i == 1 and 'campaign' or 'sender', since}
    end
  end
  check('begin', cur[1], ST.active)
  local set = {'state', ST.active, 'task_id', tid, 'begins', tonumber(cur[14] or '0') + 1}
  if me ~= '' then
    table.insert(set, 'owner'); table.insert(set, me)
    redis.call('SADD', held, key)
  end
  local amb, inflight = tonumber(cur[6] or '0'), '0'
  if cur[3] == '1' then
    amb = amb + 1
    table.insert(set, 'last_error'); table.insert(set, 'a worker stopped while this attempt was in flight')
    table.insert(set, 'attempts'); table.insert(set, tonumber(cur[9] or '0') + 1)
    table.insert(set, 'ambiguous'); table.insert(set, amb)
  end
  local verdict, trouble = 'go', '0'
  if try == '1' and tonumber(cur[8] or '0') <= now and (amb == 0 or final5xx == '1') then
    local g = gate_of(KEYS[b + 6], room)
    if g[2] then trouble = '1' end
    if g[1] then
      verdict, inflight = 'sent', '1'
      table.insert(set, 'requests'); table.insert(set, tonumber(cur[10] or '0') + 1)
      count(counts, 'requests', 1)
    end
  end
  table.insert(set, 'inflight'); table.insert(set, inflight)
  redis.call('HSET', rec, unpack(set))
  if cur[1] ~= ST.active then
    count(counts, 'state:' .. cur[1], -1)
    count(counts, 'state:' .. ST.active, 1)
  end
  local out = {verdict, cur[5] or '', tostring(amb), cur[7] or '', cur[8] or '', now, trouble, campaign, cur[11] or ''}
  if ref then
    for j = 15, 19 do table.insert(out, cur[j] or '') end
  end
  return out
end
local out, i, n = {}, 1, 0
while i < #ARGV do
  local first, last = i + 9, i + 8 + 2 * tonumber(ARGV[i + 8])
  local ok, res = pcall(one, 1 + 9 * n, ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
    ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], first, last)
  if not ok then res = failure(res) end
  table.insert(out, res)
  i = last + 1
  n = n + 1
end
apply_counts()
return out
`))

// ErrStale and ErrDone tell a delivery it has nothing to do.
var (
	ErrStale = errors.New("a newer generation of this invite exists")
	ErrDone  = errors.New("this invite already has its final result")
	// ErrTaken: another delivery has the invite (a takeover's, or the one
	// a takeover replaced: takeover.go).
	ErrTaken = errors.New("another delivery has taken this invite over")
)

// BeginOptions say whether Begin may mark the first request in flight.
type BeginOptions struct {
	// Send: the delivery can send at once (it has an identity server).
	Send bool
	// FinalOn5xx: an ambiguous attempt needs no re-check, so the next
	// request may go at once too.
	FinalOn5xx bool
	// TaskID is the delivered task's ID when it is not the invite's own
	// (tasks.Invite.TaskID): a takeover's re-delivery (takeover.go).
	TaskID string
}

type beginReq struct {
	ref tasks.InviteRef
	// whole is the invite, when the task carries it; nil for a reference
	// (BeginRef): the room is the record's, and the reply carries the
	// record's identity.
	whole *tasks.Invite
	opts  BeginOptions
	// campaign is the campaign the record is expected to belong to.
	campaign string
	// fields: send the record's fields, for a record to be created here
	// (after an "adopt" answer).
	fields bool
}

type beginRes struct {
	p     record.Progress
	inv   tasks.Invite // a reference's invite, read from its record
	err   error
	rekey string // the record's campaign, to begin again with
	adopt bool   // begin again with the record's fields
}

// ErrGone tells the delivery of a reference (BeginRef) that its invite has
// no record of its generation: purged, expired (--finished-ttl) or
// replaced, so there is nothing to send.
var ErrGone = errors.New("the invite's record is gone (purged, expired or replaced)")

// Begin starts processing a delivered task (beginScript), in a batch with
// those of other deliveries. It returns ErrStale, ErrDone, a
// *record.PausedError, or the invite's progress; Progress.Campaign is the
// campaign whose counters the delivery moves from then on.
func (c *Client) Begin(ctx context.Context, inv tasks.Invite, opts BeginOptions) (record.Progress, error) {
	r, err := c.begin(ctx, beginReq{ref: inv.Ref(), whole: &inv, opts: opts})
	return r.p, err
}

// BeginRef is Begin for a task that carries only a reference to its
// record (tasks.InviteRef): the invite it returns is the record's (its
// room, medium, address, identity server and enqueue time, with the
// reference's campaign, sender and generation). A reference whose record
// is gone gets ErrGone.
func (c *Client) BeginRef(ctx context.Context, ref tasks.InviteRef, opts BeginOptions) (record.Progress, tasks.Invite, error) {
	r, err := c.begin(ctx, beginReq{ref: ref, opts: opts})
	return r.p, r.inv, err
}

// begin runs a request until it is answered: again with the record's
// campaign's keys (rekey), or with the record's fields (adopt).
func (c *Client) begin(ctx context.Context, req beginReq) (beginRes, error) {
	key := req.ref.Key
	req.campaign = req.ref.Campaign
	for round := 0; ; round++ {
		r, err := c.begins.do(ctx, req)
		if err != nil {
			return beginRes{}, fmt.Errorf("begin invite %s: %w", key, err)
		}
		if r.rekey == "" && !r.adopt {
			return r, r.err
		}
		if round == 3 {
			return beginRes{}, fmt.Errorf("begin invite %s: its record keeps changing (campaign or generation)", key)
		}
		switch {
		case r.adopt && req.whole == nil:
			return beginRes{}, ErrGone // a reference cannot create its record
		case r.adopt:
			req.fields = true
		default:
			req.campaign = r.rekey
		}
	}
}

// writeBegins runs beginScript once for a batch.
func (c *Client) writeBegins(ctx context.Context, reqs []beginReq) ([]beginRes, error) {
	keys := make([]string, 0, 1+9*len(reqs))
	keys = append(keys, c.k.campaigns())
	args := make([]any, 0, len(reqs)*(8+2*8)+1)
	for _, r := range reqs {
		ref := r.ref
		keys = append(keys, c.k.invite(ref.Key), c.k.counts(r.campaign), c.k.invites(r.campaign),
			c.k.pause(string(record.PauseCampaign), ref.Campaign), c.k.pause(string(record.PauseSender), ref.Sender),
			c.k.gate(ref.Sender), c.k.counts(ref.Campaign), c.k.order(r.campaign), c.k.order(ref.Campaign))
		tid := ref.TaskID()
		if r.opts.TaskID != "" {
			tid = r.opts.TaskID
		}
		var fields []any
		room := "" // a reference's: the record's
		if inv := r.whole; inv != nil {
			room = inv.RoomID
			if r.fields {
				fields = append([]any{"task_id", tid}, identityFields(*inv)...)
			}
		}
		args = append(args, ref.Key, ref.Generation, boolArg(r.opts.Send), boolArg(r.opts.FinalOn5xx),
			r.campaign, ref.Campaign, tid, room, len(fields)/2)
		args = append(args, fields...)
	}
	keys = append(keys, c.k.workers(), c.k.held(c.opts.WorkerID))
	args = append(args, c.opts.WorkerID)
	replies, err := beginScript.Run(ctx, c.rdb, keys, args...).Slice()
	if err == nil && len(replies) != len(reqs) {
		err = fmt.Errorf("%d replies for %d invites", len(replies), len(reqs))
	}
	if err != nil {
		return nil, err
	}
	out := make([]beginRes, len(reqs))
	for i, reply := range replies {
		out[i] = parseBegin(reqs[i], replyStrings(reply))
	}
	return out, nil
}

// parseBegin reads one invite's reply of beginScript.
func parseBegin(req beginReq, v []string) beginRes {
	key := req.ref.Key
	bad := beginRes{err: fmt.Errorf("begin invite %s: unexpected answer %q", key, v)}
	if len(v) == 0 {
		return bad
	}
	switch v[0] {
	case "stale":
		return beginRes{err: ErrStale}
	case "final":
		return beginRes{err: ErrDone}
	case "adopt":
		return beginRes{adopt: true}
	case "taken":
		return beginRes{err: ErrTaken}
	case "rekey":
		if len(v) == 2 {
			return beginRes{rekey: v[1]}
		}
	case "held":
		if len(v) == 3 {
			return beginRes{err: &record.PausedError{Scope: record.PauseScope(v[1]), Since: msTime(v[2])}}
		}
	case "error":
		if len(v) == 2 {
			return beginRes{err: fmt.Errorf("begin invite %s: %s", key, v[1])}
		}
	case "go", "sent":
		switch {
		case req.whole != nil && len(v) == 9:
			return beginRes{p: parseProgress(key, v)}
		case req.whole == nil && len(v) == 14:
			// A reference: the record's identity follows.
			r := beginRes{p: parseProgress(key, v)}
			r.inv, r.err = req.ref.Invite(v[9], cmp.Or(v[10], string(tasks.MediumOf(v[11]))), v[11], v[12], v[13])
			return r
		}
	}
	return bad
}

// parseProgress reads the progress of a "go" or "sent" reply.
func parseProgress(key string, v []string) record.Progress {
	p := record.Progress{Key: key, First429: msTime(v[3]), NotBefore: msTime(v[4]), Sent: v[0] == "sent",
		Trouble: v[6] == "1", Campaign: v[7]}
	p.Failures, _ = strconv.Atoi(v[8])
	p.Retries, _ = strconv.Atoi(v[1])
	p.Ambiguous, _ = strconv.Atoi(v[2])
	p.ReservedAt, _ = strconv.ParseInt(v[5], 10, 64)
	return p
}

// replyStrings is a script's array reply as strings (integers formatted).
func replyStrings(reply any) []string {
	arr, _ := reply.([]any)
	out := make([]string, len(arr))
	for i, x := range arr {
		switch x := x.(type) {
		case string:
			out[i] = x
		case int64:
			out[i] = strconv.FormatInt(x, 10)
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return out
}
