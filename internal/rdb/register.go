package rdb

import (
	"context"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/record"
)

// luaMeta collects, per campaign of a register batch, the record fields
// kept in the campaign meta hash, and writes them ("*" once two invites of
// the campaign disagree; created_at_ms only once).
const luaMeta = `
local meta_fields = {room_id = true, sender = true, id_server = true, medium = true}
local function note_meta(c, field, value)
  if not meta_fields[field] then return end
  local cur = c.meta[field]
  if cur == nil then c.meta[field] = value elseif cur ~= value then c.meta[field] = '*' end
end
local function write_meta(meta, c)
  for field, value in pairs(c.meta) do
    local old = redis.call('HGET', meta, field)
    if not old then redis.call('HSET', meta, field, value)
    elseif old ~= value and old ~= '*' then redis.call('HSET', meta, field, '*') end
  end
  redis.call('HSETNX', meta, 'created_at_ms', c.first_score)
end
`

// registerScript records invites a producer is about to enqueue: a whole
// batch per call, because a bulk import runs it for every row and Redis time
// per row is what bounds the import rate. Per invite it makes two calls
// (HMGET, HSET); the counters, the campaign index, the campaign set and the
// campaign meta are updated once per campaign at the end. A registered
// invite goes to the end of its campaign's list (index.go), its record
// keeping its position ("ix").
//
// KEYS[1] -> {prefix}:campaigns
// KEYS[1+3(j-1)+1..3] -> counts, list (index.go) and meta of campaign slot j (j = 1..m)
// KEYS[1+3m+4(i-1)+1..4] -> invite i's record, and the counts, index and
//
//	list (index.go) of the campaign an existing record of it is expected
//	to belong to
//
// ARGV[1] -> "1" to re-invite finished invites (--again)
// ARGV[2] -> import run ID ("" for none)
// ARGV[3] -> m, the number of campaign slots
// ARGV[4..3+m] -> the campaign of each slot
// ARGV[4+m..3+3m] -> per slot, the earliest and latest process_at (ms) of
//
//	its scheduled invites in this batch ("" and "" when none)
//
// ARGV[4+3m..] -> per invite i: its campaign slot j, invite key, initial state
//
//	(queued|scheduled), score (enqueue time, ms), the campaign an existing
//	record is expected to belong to, n, then n field/value pairs of the
//	record (with "campaign" among them)
//
// An import run ID is kept in the record's "import_run" field by every
// registration that carries one, whatever its verdict: a second row of the
// same import naming the same invite (in this batch or another) finds its
// own run there and is told "duplicate". Every record has a "state" field,
// so a missing state means no record.
//
// A cancelled invite is registered again without --again, as a new
// generation; its "ambiguous" count carries over (an attempt before the
// cancel may have reached the server), so the next delivery re-checks first
// and a success is flagged possible_duplicate.
//
// Every campaign of the batch is registered (named in {prefix}:campaigns,
// its meta written) even when none of its invites is new, so a campaign
// whose addresses all belong to other campaigns exists, "empty"; its meta
// counts them as "held_by:{campaign}" (how many of its registrations found
// their invite held by that campaign), so status can say where they are.
//
// A campaign's counters keep the window its scheduled invites become due
// in, sched_from_ms and sched_until_ms (for its expected end,
// record.PlanSender): widened by each batch that registers scheduled
// invites of it, started afresh when none of its invites was scheduled.
//
// Returns {verdict, generation, campaign} per invite, flattened: verdict 1
// registered (enqueue it with that generation), 0 already pending, 2
// already done (not re-invited without --again), 3 duplicate (this import
// run already registered or counted it), -1 "call again with the keys of
// campaign": an existing record to replace belongs to another campaign than
// expected (nothing was written for that invite). campaign is the existing
// record's campaign for verdicts 0, 2 and -1, else "".
var registerScript = newScript("register", script(luaForget, luaMeta, `
local again, run, m = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out, slots = {}, {}
for j = 1, m do
  slots[j] = {name = ARGV[3 + j], states = {}, state_order = {}, index = {}, meta = {}, held = {},
    sched_from = ARGV[2 + m + 2 * j], sched_until = ARGV[3 + m + 2 * j]}
end
local i, n = 4 + 3 * m, 0
while i <= #ARGV do
  n = n + 1
  local slot, key, state, score, expected = tonumber(ARGV[i]), ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local first, last = i + 6, i + 5 + 2 * tonumber(ARGV[i + 5])
  i = last + 1
  local base = 1 + 3 * m + 4 * (n - 1)
  local rec = KEYS[base + 1]
  local cur = redis.call('HMGET', rec, 'state', 'generation', 'import_run', 'ambiguous', 'campaign')
  local verdict, gen, carried, replacing = 1, tonumber(cur[2] or '0'), nil, false
  if cur[1] then
    if run ~= '' and cur[3] == run then
      verdict = 3
    else
      if cur[1] == ST.cancelled or (cur[1] == ST.done and again == '1') then
        replacing = true
      elseif cur[1] ~= ST.done then
        verdict = 0
      else
        verdict = 2
      end
      if replacing and cur[5] and cur[5] ~= expected then
        verdict = -1
      else
        if run ~= '' then redis.call('HSET', rec, 'import_run', run) end
        if replacing then
          gen = gen + 1
          if cur[1] == ST.cancelled and tonumber(cur[4] or '0') > 0 then carried = cur[4] end
          forget(rec, key, KEYS[base + 2], KEYS[base + 3], KEYS[base + 4])
        end
      end
    end
  end
  local c = slots[slot]
  if not c.first_score then c.first_score = score end
  for j = first, last, 2 do note_meta(c, ARGV[j], ARGV[j + 1]) end
  if (verdict == 0 or verdict == 2) and cur[5] and cur[5] ~= c.name then
    c.held[cur[5]] = (c.held[cur[5]] or 0) + 1
  end
  if verdict == 1 then
    if replacing then check('reinvite', cur[1], state) else check('register', false, state) end
    local set = {'state', state}
    if gen > 0 then table.insert(set, 'generation'); table.insert(set, gen) end -- missing reads as 0
    if run ~= '' then table.insert(set, 'import_run'); table.insert(set, run) end
    if carried then table.insert(set, 'ambiguous'); table.insert(set, carried) end
    -- Its position: after the list's entries and the batch's before it.
    if not c.next_pos then c.next_pos = redis.call('LLEN', KEYS[3 + 3 * (slot - 1)]) + 1 end
    table.insert(set, 'ix'); table.insert(set, c.next_pos + #c.index)
    for j = first, last do table.insert(set, ARGV[j]) end
    redis.call('HSET', rec, unpack(set))
    if not c.states[state] then table.insert(c.state_order, state) end
    c.states[state] = (c.states[state] or 0) + 1
    table.insert(c.index, key)
  end
  table.insert(out, verdict)
  table.insert(out, gen)
  table.insert(out, (verdict == 0 or verdict == 2 or verdict == -1) and cur[5] or '')
end
for j = 1, m do
  local c, at = slots[j], 1 + 3 * (j - 1)
  if c.states[ST.scheduled] and c.sched_from ~= '' then
    local w = redis.call('HMGET', KEYS[at + 1], 'state:' .. ST.scheduled, 'sched_from_ms', 'sched_until_ms')
    local from, untl = tonumber(c.sched_from), tonumber(c.sched_until)
    if tonumber(w[1] or '0') > 0 and w[2] and w[3] then
      from, untl = math.min(from, tonumber(w[2])), math.max(untl, tonumber(w[3]))
    end
    redis.call('HSET', KEYS[at + 1], 'sched_from_ms', from, 'sched_until_ms', untl)
  end
  for _, state in ipairs(c.state_order) do redis.call('HINCRBY', KEYS[at + 1], 'state:' .. state, c.states[state]) end
  if #c.index > 0 then
    redis.call('RPUSH', KEYS[at + 2], unpack(c.index))
    redis.call('HINCRBY', KEYS[at + 1], 'indexed', #c.index)
  end
  if c.first_score then
    redis.call('SADD', KEYS[1], c.name)
    write_meta(KEYS[at + 3], c)
    for holder, k in pairs(c.held) do redis.call('HINCRBY', KEYS[at + 3], 'held_by:' .. holder, k) end
  end
end
return out
`))

// maxRegisterBatch bounds the invites of one registerScript call, which
// unpacks them into one RPUSH: Lua's C stack holds 8,000 values.
const maxRegisterBatch = 1000

// Register registers several invites, up to maxRegisterBatch per
// registerScript call (each call is atomic), filling in each Registration's
// Verdict and Invite.Generation. On error, some of the invites may have been
// registered: their records say queued without a task, which the next
// registration of the same invite repairs (see internal/producer).
func (c *Client) Register(ctx context.Context, regs []record.Registration, opts record.RegisterOptions) error {
	for len(regs) > 0 {
		n := min(len(regs), maxRegisterBatch)
		if err := c.registerChunk(ctx, regs[:n], opts); err != nil {
			return err
		}
		regs = regs[n:]
	}
	return nil
}

// registerChunk runs registerScript for regs, then again for those whose
// existing record belongs to another campaign than expected, with that
// campaign's keys.
func (c *Client) registerChunk(ctx context.Context, regs []record.Registration, opts record.RegisterOptions) error {
	expected := make([]string, len(regs))
	for i := range regs {
		expected[i] = regs[i].Invite.Campaign
	}
	todo := make([]int, len(regs))
	for i := range todo {
		todo[i] = i
	}
	for round := 0; len(todo) > 0; round++ {
		if round == 3 {
			return fmt.Errorf("register invite %s: its record keeps moving between campaigns", regs[todo[0]].Invite.Key())
		}
		again, err := c.registerOnce(ctx, regs, todo, expected, opts)
		if err != nil {
			if len(regs) == 1 {
				return fmt.Errorf("register invite %s: %w", regs[0].Invite.Key(), err)
			}
			return fmt.Errorf("register %d invites: %w", len(regs), err)
		}
		todo = again
	}
	return nil
}

// registerOnce runs registerScript once for regs[todo...]; it returns the
// indexes to register again (their expected campaign updated).
func (c *Client) registerOnce(ctx context.Context, regs []record.Registration, todo []int, expected []string, opts record.RegisterOptions) ([]int, error) {
	slots := map[string]int{}
	var names []string
	for _, i := range todo {
		name := regs[i].Invite.Campaign
		if _, ok := slots[name]; !ok {
			names = append(names, name)
			slots[name] = len(names)
		}
	}
	keys := make([]string, 0, 1+3*len(names)+4*len(todo))
	keys = append(keys, c.k.campaigns())
	for _, name := range names {
		keys = append(keys, c.k.counts(name), c.k.order(name), c.k.meta(name))
	}
	args := make([]any, 0, 3+len(names)+len(todo)*(6+2*8))
	args = append(args, boolArg(opts.Again), opts.ImportRun, len(names))
	for _, name := range names {
		args = append(args, name)
	}
	args = appendSchedWindows(args, regs, todo, slots, len(names))
	for _, i := range todo {
		r := &regs[i]
		key := r.Invite.Key() // once: it normalises the address again (issue 26's P2 profile)
		keys = append(keys, c.k.invite(key), c.k.counts(expected[i]), c.k.invites(expected[i]), c.k.order(expected[i]))
		args = c.appendRegisterArgs(args, r, key, slots[r.Invite.Campaign], expected[i])
	}
	res, err := registerScript.Run(ctx, c.rdb, keys, args...).Slice()
	if err == nil && len(res) != 3*len(todo) {
		err = fmt.Errorf("%d values in the reply, want %d", len(res), 3*len(todo))
	}
	if err != nil {
		return nil, err
	}
	var again []int
	for n, i := range todo {
		verdict, okV := res[3*n].(int64)
		gen, okG := res[3*n+1].(int64)
		heldBy, okH := res[3*n+2].(string)
		if !okV || !okG || !okH {
			return nil, fmt.Errorf("unexpected reply %v", res[3*n:3*n+3])
		}
		if verdict == -1 {
			expected[i] = heldBy
			again = append(again, i)
			continue
		}
		regs[i].Verdict, regs[i].Invite.Generation, regs[i].HeldBy = record.Verdict(verdict), int(gen), heldBy
	}
	return again, nil
}

// appendRegisterArgs appends one invite's group of registerScript's ARGV.
func (c *Client) appendRegisterArgs(args []any, r *record.Registration, key string, slot int, expected string) []any {
	state := record.StateQueued
	if r.Scheduled {
		state = record.StateScheduled
	}
	inv := r.Invite
	fields := identityFields(inv)
	if !r.ProcessAt.IsZero() {
		fields = append(fields, "process_at", stamp(r.ProcessAt))
	}
	args = append(args, slot, key, string(state), inv.EnqueuedAt.UnixMilli(), expected, len(fields)/2)
	return append(args, fields...)
}

// appendSchedWindows appends, per campaign slot, the earliest and latest
// process_at (Unix ms) of its scheduled invites among regs[todo...], ""
// and "" for a slot with none (registerScript's ARGV[4+m..3+3m]).
func appendSchedWindows(args []any, regs []record.Registration, todo []int, slots map[string]int, m int) []any {
	from, until := make([]int64, m), make([]int64, m)
	for _, i := range todo {
		r := &regs[i]
		if !r.Scheduled || r.ProcessAt.IsZero() {
			continue
		}
		j, at := slots[r.Invite.Campaign]-1, r.ProcessAt.UnixMilli()
		if from[j] == 0 || at < from[j] {
			from[j] = at
		}
		until[j] = max(until[j], at)
	}
	for j := range m {
		if from[j] == 0 {
			args = append(args, "", "")
		} else {
			args = append(args, from[j], until[j])
		}
	}
	return args
}
