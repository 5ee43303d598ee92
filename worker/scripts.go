package worker

import "github.com/redis/go-redis/v9"

// luaMove is shared by the scripts below: it moves a record to a new state
// and keeps the campaign's "state:*" counters equal to the records' states.
// A caller that has already read the state passes it as old.
const luaMove = `
local function move(counts, rec, new, old)
  if old == nil then old = redis.call('HGET', rec, 'state') end
  if old == new then return end
  if old then redis.call('HINCRBY', counts, 'state:' .. old, -1) end
  redis.call('HINCRBY', counts, 'state:' .. new, 1)
  redis.call('HSET', rec, 'state', new)
end
local function counts_of(p, campaign) return p .. ':campaign:' .. campaign .. ':counts' end
local function invites_of(p, campaign) return p .. ':campaign:' .. campaign .. ':invites' end
`

// luaForget removes a record from its campaign's counters and index, so that
// a re-invite (a new generation) can take its place: a final record (--again,
// retry) or a cancelled one.
const luaForget = `
local function forget(p, rec, key)
  local campaign = redis.call('HGET', rec, 'campaign')
  if not campaign then return end
  local counts = counts_of(p, campaign)
  local state = redis.call('HGET', rec, 'state')
  if state then redis.call('HINCRBY', counts, 'state:' .. state, -1) end
  local status = redis.call('HGET', rec, 'status')
  if state == 'done' and status then redis.call('HINCRBY', counts, 'status:' .. status, -1) end
  if state == 'done' and redis.call('HGET', rec, 'possible_duplicate') == '1' then
    redis.call('HINCRBY', counts, 'possible_duplicates', -1)
  end
  redis.call('ZREM', invites_of(p, campaign), key)
  redis.call('DEL', rec)
end
`

// luaCreate writes a new record, in state "queued", from field/value pairs
// ARGV[first..last] (with "campaign" among them), and counts it:
// beginScript (scripts_hot.go) uses it for a task no producer registered.
// registerScript writes its new records the same way, batching the counters
// per campaign.
const luaCreate = `
local function create(p, rec, key, gen, score, first, last) -- returns the campaign
  local campaign
  for j = first, last, 2 do
    if ARGV[j] == 'campaign' then campaign = ARGV[j + 1] end
  end
  redis.call('HSET', rec, 'generation', gen, 'state', 'queued', unpack(ARGV, first, last))
  local counts = counts_of(p, campaign)
  redis.call('HINCRBY', counts, 'state:queued', 1)
  redis.call('ZADD', invites_of(p, campaign), score, key)
  redis.call('SADD', p .. ':campaigns', campaign)
  return campaign
end
`

// luaMeta collects, per campaign of a registerScript batch, the record fields
// kept in the campaign meta hash, and writes them ("*" once two invites of
// the campaign disagree; created_at_ms only once).
const luaMeta = `
local meta_fields = {room_id = true, sender = true, id_server = true, medium = true}
local function note_meta(c, field, value)
  if not meta_fields[field] then return end
  local cur = c.meta[field]
  if cur == nil then c.meta[field] = value elseif cur ~= value then c.meta[field] = '*' end
end
local function write_meta(p, campaign, c)
  local meta = p .. ':campaign:' .. campaign .. ':meta'
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
// campaign meta are updated once per campaign at the end (luaCreate does the
// same for one record, without the meta).
//
// ARGV[1] prefix, ARGV[2] "1" to re-invite finished invites (--again),
// ARGV[3] the import run ID ("" for none), then one group per invite:
// invite key, initial state (queued|scheduled), score (enqueue time, ms), the
// task ID of generation 0 (tasks.Invite.TaskID; a later generation N appends
// ":g<N>", as tasks does), n, then n field/value pairs of the record, with
// "campaign" among them.
//
// An import run ID is kept in the record's "import_run" field by every
// registration that carries one, whatever its verdict: a second row of the
// same import naming the same invite (in this batch or another) finds its
// own run there and is told "duplicate", so an importer needs no in-memory
// set of the addresses it has seen. Every record has a "state" field, so a
// missing state means no record.
//
// A cancelled invite is registered again without --again, as a new
// generation; its "ambiguous" count carries over (an attempt before the
// cancel may have reached the server), so the next delivery re-checks first
// and a success is flagged possible_duplicate.
//
// Returns {verdict, generation, campaign} per invite, flattened: verdict 1
// registered (enqueue it with that generation), 0 already pending (queued,
// scheduled, active, retrying or paused), 2 already done (finished; not
// re-invited without --again), 3 duplicate (this import run already
// registered or counted it). campaign is the existing record's campaign for
// verdicts 0 and 2 (it may be another campaign's invite), else "".
var registerScript = redis.NewScript(luaMove + luaForget + luaCreate + luaMeta + `
local p, again, run = ARGV[1], ARGV[2], ARGV[3]
local out, campaigns, added = {}, {}, {}
local i = 4
while i <= #ARGV do
  local key, state, score, tid = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local first, last = i + 5, i + 4 + 2 * tonumber(ARGV[i + 4])
  i = last + 1
  local rec = p .. ':invite:' .. key
  local cur = redis.call('HMGET', rec, 'state', 'generation', 'import_run', 'ambiguous', 'campaign')
  local verdict, gen, carried = 1, tonumber(cur[2] or '0'), nil
  if cur[1] then
    if run ~= '' and cur[3] == run then
      verdict = 3
    else
      if run ~= '' then redis.call('HSET', rec, 'import_run', run) end
      if cur[1] == 'cancelled' then
        gen = gen + 1
        if tonumber(cur[4] or '0') > 0 then carried = cur[4] end
        forget(p, rec, key)
      elseif cur[1] ~= 'done' then
        verdict = 0
      elseif again ~= '1' then
        verdict = 2
      else
        gen = gen + 1
        forget(p, rec, key)
      end
    end
  end
  if verdict == 1 then
    local campaign
    for j = first, last, 2 do
      if ARGV[j] == 'campaign' then campaign = ARGV[j + 1] end
    end
    if gen > 0 then tid = tid .. ':g' .. gen end
    if run ~= '' then
      redis.call('HSET', rec, 'generation', gen, 'state', state, 'task_id', tid, 'import_run', run, unpack(ARGV, first, last))
    else
      redis.call('HSET', rec, 'generation', gen, 'state', state, 'task_id', tid, unpack(ARGV, first, last))
    end
    if carried then redis.call('HSET', rec, 'ambiguous', carried) end
    local c = added[campaign]
    if not c then
      c = {states = {}, order = {}, index = {}, meta = {}, first_score = score}
      added[campaign] = c
      table.insert(campaigns, campaign)
    end
    if not c.states[state] then table.insert(c.order, state) end
    c.states[state] = (c.states[state] or 0) + 1
    table.insert(c.index, score)
    table.insert(c.index, key)
    for j = first, last, 2 do note_meta(c, ARGV[j], ARGV[j + 1]) end
  end
  table.insert(out, verdict)
  table.insert(out, gen)
  table.insert(out, (verdict == 0 or verdict == 2) and cur[5] or '')
end
for _, campaign in ipairs(campaigns) do
  local c, counts = added[campaign], counts_of(p, campaign)
  for _, state in ipairs(c.order) do redis.call('HINCRBY', counts, 'state:' .. state, c.states[state]) end
  redis.call('ZADD', invites_of(p, campaign), unpack(c.index))
  redis.call('SADD', p .. ':campaigns', campaign)
  write_meta(p, campaign, c)
end
return out
`)

// luaTally applies an attempt's deltas and fields to a record and its
// campaign counters (attemptScript's ARGV from ARGV[at]: attempts, requests
// and rate-limited deltas, then field/value pairs).
const luaTally = `
local function tally(rec, counts, at)
  local attempts, requests, limited = tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
  if attempts ~= 0 then redis.call('HINCRBY', rec, 'attempts', attempts) end
  if requests ~= 0 then
    redis.call('HINCRBY', rec, 'requests', requests)
    redis.call('HINCRBY', counts, 'requests', requests)
  end
  if limited ~= 0 then
    redis.call('HINCRBY', rec, 'rate_limited', limited)
    redis.call('HINCRBY', counts, 'rate_limited', limited)
  end
  redis.call('HSET', rec, 'inflight', '0', unpack(ARGV, at + 3))
end
`

// attemptScript records a finished attempt that is not final.
//
// ARGV[1] prefix, ARGV[2] invite key, ARGV[3] new state (active|retrying),
// ARGV[4] attempts delta, ARGV[5] requests delta (the answer's request count
// minus the one counted by gateSendScript), ARGV[6] rate-limited delta,
// ARGV[7..] field/value pairs (progress fields).
var attemptScript = redis.NewScript(luaMove + luaTally + `
local p, key, state = ARGV[1], ARGV[2], ARGV[3]
local rec = p .. ':invite:' .. key
local cur = redis.call('HMGET', rec, 'state', 'campaign')
if cur[1] == 'done' then return 0 end
local counts = counts_of(p, cur[2])
tally(rec, counts, 4)
move(counts, rec, state, cur[1])
return 1
`)
