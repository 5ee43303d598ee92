package worker

import "github.com/redis/go-redis/v9"

// luaDropTasks deletes the asynq tasks an invite left behind: for each
// generation 0..gen, task "inv:<key>" (":g<N>" for N > 0) if it is
// archived, completed or waiting to retry. Pending, scheduled and active
// tasks belong to invites still being sent and are never touched.
//
// This mirrors asynq v0.26's own deleteTaskCmd (internal/rdb/inspect.go)
// for those three states: the task hash asynq:{queue}:t:<id> and its entry
// in the zset asynq:{queue}:<state>. Doing it here is what lets a purge
// delete thousands of tasks per round trip instead of one (Inspector has no
// batch delete by ID); TestPurgeCampaign checks the
// layout through asynq's Inspector, so an asynq upgrade that changes it
// fails there.
const luaDropTasks = `
local function drop_tasks(q, key, gen, dry)
  local n = 0
  for g = 0, gen do
    local id = 'inv:' .. key
    if g > 0 then id = id .. ':g' .. g end
    local tk = 'asynq:{' .. q .. '}:t:' .. id
    local state = redis.call('HGET', tk, 'state')
    if state == 'archived' or state == 'completed' or state == 'retry' then
      n = n + 1
      if not dry then
        redis.call('ZREM', 'asynq:{' .. q .. '}:' .. state, id)
        redis.call('DEL', tk)
      end
    end
  end
  return n
end
`

// purgeScript deletes one batch of a campaign's finished (or cancelled) invites: records,
// their share of the campaign counters, index entries and asynq tasks.
//
// ARGV[1] prefix, ARGV[2] campaign, ARGV[3] asynq queue, ARGV[4] first rank
// of the campaign index to look at, ARGV[5] how many, ARGV[6] cutoff: ""
// for none, else a UTC time "YYYY-MM-DDTHH:MM:SS" (only invites finished
// before that second go), ARGV[7] the cutoff in ms (index scores are enqueue
// times: an invite enqueued at or after the cutoff cannot have finished
// before it, so the scan stops there), ARGV[8] "1" for a dry run (count,
// delete nothing).
//
// An index entry whose record is gone (expired by Config.FinishedTTL) or
// belongs to another campaign is dropped from the index; the counters keep
// counting an expired record, whose state is unknown.
//
// Returns {looked at, records purged, tasks purged, stale index entries,
// kept, 1 when the scan reached the end (or the cutoff)}. The next batch
// starts at rank first + kept (+ the purged ones in a dry run).
var purgeScript = redis.NewScript(luaMove + luaForget + luaDropTasks + `
local p, campaign, q, first, count = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local cutoff, cutoff_ms, dry = ARGV[6], tonumber(ARGV[7]), ARGV[8] == '1'
local idx, counts = invites_of(p, campaign), counts_of(p, campaign)
local entries = redis.call('ZRANGE', idx, first, first + count - 1, 'WITHSCORES')
local looked, purged, tasks, stale, kept = 0, 0, 0, 0, 0
local finished = #entries < 2 * count
for i = 1, #entries, 2 do
  local key, score = entries[i], tonumber(entries[i + 1])
  if cutoff ~= '' and score >= cutoff_ms then
    finished = true
    break
  end
  looked = looked + 1
  local rec = p .. ':invite:' .. key
  local r = redis.call('HMGET', rec, 'state', 'finished_at', 'campaign', 'generation', 'requests', 'rate_limited')
  if not r[1] or r[3] ~= campaign then
    stale = stale + 1
    if not dry then redis.call('ZREM', idx, key) end
  elseif (r[1] == 'done' or r[1] == 'cancelled') and (cutoff == '' or string.sub(r[2] or '', 1, 19) < cutoff) then
    purged = purged + 1
    tasks = tasks + drop_tasks(q, key, tonumber(r[4] or '0'), dry)
    if not dry then
      local req, lim = tonumber(r[5] or '0'), tonumber(r[6] or '0')
      if req ~= 0 then redis.call('HINCRBY', counts, 'requests', -req) end
      if lim ~= 0 then redis.call('HINCRBY', counts, 'rate_limited', -lim) end
      forget(p, rec, key)
    end
  else
    kept = kept + 1
  end
end
return {looked, purged, tasks, stale, kept, finished and 1 or 0}
`)

// purgeStreamScript deletes one batch of results stream entries.
//
// ARGV[1] prefix, ARGV[2] campaign ("" for any), ARGV[3] cutoff in ms (0 for
// none: entry IDs are the finish times in ms, so the scan stops at the
// first entry at or after it), ARGV[4] exclusive start ID ("-" for the
// beginning), ARGV[5] how many to look at, ARGV[6] "1" for a dry run.
//
// Returns {entries matched, last ID looked at ("" at the end)}.
var purgeStreamScript = redis.NewScript(`
local p, campaign, cutoff, start, count, dry = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5]), ARGV[6] == '1'
local stream = p .. ':results'
local from = start
if start ~= '-' then from = '(' .. start end
local entries = redis.call('XRANGE', stream, from, '+', 'COUNT', count)
local matched, last, ids = 0, '', {}
for _, e in ipairs(entries) do
  local id, fields = e[1], e[2]
  local ms = tonumber(string.match(id, '^(%d+)'))
  if cutoff > 0 and ms >= cutoff then
    last = ''
    break
  end
  last = id
  local ok = campaign == ''
  for i = 1, #fields, 2 do
    if fields[i] == 'campaign' then ok = ok or fields[i + 1] == campaign end
  end
  if ok then
    matched = matched + 1
    table.insert(ids, id)
  end
end
if #entries < count then last = '' end
if not dry and #ids > 0 then redis.call('XDEL', stream, unpack(ids)) end
return {matched, last}
`)

// dropCampaignScript deletes a campaign with no invite left: its counters,
// its meta, its pause (a campaign with nothing left holds nothing) and its
// name. It checks in the same step, so an invite registered
// meanwhile keeps its campaign.
//
// ARGV[1] prefix, ARGV[2] campaign. Returns 1 when deleted, 0 when invites
// are left.
var dropCampaignScript = redis.NewScript(luaMove + `
local p, campaign = ARGV[1], ARGV[2]
if redis.call('ZCARD', invites_of(p, campaign)) > 0 then return 0 end
redis.call('DEL', counts_of(p, campaign), p .. ':campaign:' .. campaign .. ':meta', p .. ':pause:campaign:' .. campaign)
redis.call('ZREM', p .. ':pauses', 'campaign:' .. campaign)
redis.call('SREM', p .. ':campaigns', campaign)
return 1
`)
