package worker

import "github.com/redis/go-redis/v9"

// cancelScript cancels one page of a campaign's invites: every record not
// sent yet (queued, scheduled, retrying, paused) is marked cancelled, and
// counted so, in one call for up to a page of invites. The record stays in
// its campaign (index and counters), so the campaign's counts still add
// up; a later registration of the same invite replaces it (see
// registerScript).
//
// The tasks: a scheduled or retrying task (an asynq zset entry) is deleted
// here, mirroring asynq v0.26's deleteTaskCmd for those states (the task
// hash asynq:{queue}:t:<id> and its entry in asynq:{queue}:<state>), as
// luaDropTasks does for purge. A pending task is left in asynq's list:
// removing it is an LREM that scans the whole list (asynq's DeleteTask
// does that, which made cancelling 200,000 invites take minutes); its
// delivery finds the record cancelled and ends at once, sending nothing
// (beginScript). A task a worker holds right now but has not begun is
// cancelled the same way. An invite being sent ("active") is left alone.
//
// ARGV[1] prefix, ARGV[2] campaign, ARGV[3] asynq queue, ARGV[4] first rank
// of the campaign index, ARGV[5] how many, ARGV[6] the time of the cancel
// (RFC 3339).
//
// Returns {looked at, cancelled, in flight, finished, already cancelled,
// tasks deleted}.
var cancelScript = redis.NewScript(luaMove + `
local p, campaign, q, first, count, at = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local keys = redis.call('ZRANGE', invites_of(p, campaign), first, first + count - 1)
local cancelled, inflight, finished, already, tasks = 0, 0, 0, 0, 0
local moved = {}
for _, key in ipairs(keys) do
  local rec = p .. ':invite:' .. key
  local cur = redis.call('HMGET', rec, 'state', 'generation', 'campaign')
  local state = cur[1]
  if not state or cur[3] ~= campaign then
    -- gone (expired) or another campaign's now: not this cancel's
  elseif state == 'done' then finished = finished + 1
  elseif state == 'active' then inflight = inflight + 1
  elseif state == 'cancelled' then already = already + 1
  else
    redis.call('HSET', rec, 'state', 'cancelled', 'cancelled_at', at)
    moved[state] = (moved[state] or 0) + 1
    cancelled = cancelled + 1
    local id = 'inv:' .. key
    local gen = tonumber(cur[2] or '0')
    if gen > 0 then id = id .. ':g' .. gen end
    local tk = 'asynq:{' .. q .. '}:t:' .. id
    local ts = redis.call('HGET', tk, 'state')
    if ts == 'scheduled' or ts == 'retry' then
      redis.call('ZREM', 'asynq:{' .. q .. '}:' .. ts, id)
      redis.call('DEL', tk)
      tasks = tasks + 1
    end
  end
end
local counts = counts_of(p, campaign)
for state, n in pairs(moved) do redis.call('HINCRBY', counts, 'state:' .. state, -n) end
if cancelled > 0 then redis.call('HINCRBY', counts, 'state:cancelled', cancelled) end
return {#keys, cancelled, inflight, finished, already, tasks}
`)
