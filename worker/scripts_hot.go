package worker

import "github.com/redis/go-redis/v9"

// The scripts of an invite's success path, each writing a batch of
// invites (batch.go): per invite they read the record once and write it
// once; the campaign counters, the pace and the gate are read or written
// once per batch. Each invite of a batch runs under pcall: one that fails
// (a key of the wrong type) fails alone, as it would in a script of its own.

// luaBatch is shared by the batch scripts: counter deltas summed over the
// batch, applied once per campaign and field at the end.
const luaBatch = `
local deltas = {}
local function count(campaign, field, d)
  local c = deltas[campaign]
  if not c then c = {}; deltas[campaign] = c end
  c[field] = (c[field] or 0) + d
end
local function apply_counts(p)
  for campaign, c in pairs(deltas) do
    local counts = counts_of(p, campaign)
    for f, d in pairs(c) do
      if d ~= 0 then redis.call('HINCRBY', counts, f, d) end
    end
  end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function failure(e)
  if type(e) == 'table' and e.err then return {'error', e.err} end
  return {'error', tostring(e)}
end
`

// beginScript starts (or resumes) the processing of delivered tasks, and,
// when the sender's gate is open (no pacing, no back-off: the common
// case), marks each one's first request in flight in the same round trip,
// as gateAcquireScript would — one script per invite instead of two.
//
// ARGV[1] prefix, then one group per invite: invite key, the task's
// generation, score for a record created here, try ("1": the caller may
// send now — it knows an identity server), final_on_5xx ("1": an ambiguous
// attempt needs no re-check before the next), the campaign's pause key, the
// sender's pause key (pause.go), the sender's gate key (gate.go), n, then n
// field/value pairs used only when no record exists (a task enqueued
// without the producer's registration).
//
// Returns one reply per invite: {"stale"} when the record belongs to a
// newer generation, {"done"} when this generation already has its final
// result (redelivery: never send again) or was cancelled, {"paused", scope, since_ms} when a
// pause holds the invite (its record moves to state "paused"; nothing else
// changes), {"error", message}, else {"go"|"sent", retries, ambiguous,
// first_429_ms, not_before_ms, now_ms, trouble}: the progress the delivery
// goes on from; "sent" when the request is marked in flight and counted
// (it goes out now: its gate slot was reserved at now_ms, and trouble is 1
// while the sender has ambiguous failures since its last success, see
// backoff.go). A record left "inflight" by a worker that died mid-request
// is turned into one ambiguous attempt here, so the caller re-checks before
// resending (and nothing is marked sent).
var beginScript = redis.NewScript(luaMove + luaForget + luaCreate + luaBatch + `
local p = ARGV[1]
local now = now_ms()
local pauses, gates = {}, {}
local function pause_since(key)
  if pauses[key] == nil then pauses[key] = redis.call('HGET', key, 'since_ms') or false end
  return pauses[key]
end
-- {open, trouble}: open when a request may go now without a reservation
-- (gateAcquireScript's common case: an initialised gate, no pace, no back-off).
local function gate_open(key)
  if gates[key] == nil then
    local g = redis.call('HMGET', key, 'until', 'interval', 'limited_ever', 'backoff_level', 'trouble')
    local open = g[3] ~= false and (tonumber(g[1]) or 0) <= now and (tonumber(g[2]) or 0) == 0 and tonumber(g[4] or '0') == 0
    gates[key] = {open, g[5] == '1'}
  end
  return gates[key]
end
local function one(key, gen, score, try, final5xx, cpause, spause, gatekey, first, last)
  local rec = p .. ':invite:' .. key
  local cur = redis.call('HMGET', rec, 'state', 'generation', 'inflight', 'campaign', 'retries', 'ambiguous',
    'first_429_ms', 'not_before_ms', 'attempts', 'requests')
  if cur[1] then
    local g = tonumber(cur[2] or '0')
    if g > gen then return {'stale'} end
    if g < gen then
      forget(p, rec, key)
      cur = {false}
    end
  end
  if not cur[1] then
    cur = {'queued', false, false, create(p, rec, key, gen, score, first, last)}
  end
  if cur[1] == 'done' or cur[1] == 'cancelled' then return {'done'} end -- cancelled: never sent
  local campaign = cur[4]
  for i, pk in ipairs({cpause, spause}) do
    local since = pause_since(pk)
    if since then
      move(counts_of(p, campaign), rec, 'paused', cur[1])
      return {'paused', i == 1 and 'campaign' or 'sender', since}
    end
  end
  local set = {'state', 'active'}
  local amb, inflight = tonumber(cur[6] or '0'), '0'
  if cur[3] == '1' then
    amb = amb + 1
    table.insert(set, 'last_error'); table.insert(set, 'a worker stopped while this attempt was in flight')
    table.insert(set, 'attempts'); table.insert(set, tonumber(cur[9] or '0') + 1)
    table.insert(set, 'ambiguous'); table.insert(set, amb)
  end
  local verdict, trouble = 'go', '0'
  if try == '1' and tonumber(cur[8] or '0') <= now and (amb == 0 or final5xx == '1') then
    local g = gate_open(gatekey)
    if g[2] then trouble = '1' end
    if g[1] then
      verdict, inflight = 'sent', '1'
      table.insert(set, 'requests'); table.insert(set, tonumber(cur[10] or '0') + 1)
      count(campaign, 'requests', 1)
    end
  end
  table.insert(set, 'inflight'); table.insert(set, inflight)
  redis.call('HSET', rec, unpack(set))
  if cur[1] ~= 'active' then
    count(campaign, 'state:' .. cur[1], -1)
    count(campaign, 'state:active', 1)
  end
  return {verdict, cur[5] or '', tostring(amb), cur[7] or '', cur[8] or '', now, trouble}
end
local out, i = {}, 2
while i <= #ARGV do
  local first, last = i + 9, i + 8 + 2 * tonumber(ARGV[i + 8])
  local ok, res = pcall(one, ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], ARGV[i + 4],
    ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], first, last)
  if not ok then res = failure(res) end
  table.insert(out, res)
  i = last + 1
end
apply_counts(p)
return out
`)

// finishScript records final results, counts them, and appends them to the
// results stream, exactly once per generation.
//
// ARGV[1] prefix, ARGV[2] stream MAXLEN (0: unbounded), ARGV[3] record TTL
// in ms (0: none; Config.FinishedTTL), then one group per invite: invite key, attempts delta, requests delta (beyond the one
// counted when the request was marked in flight), rate-limited delta, the
// status name, possible_duplicate ("1"|"0"), n, then n field/value pairs
// (status_code, status, http_status, finished_at, and errcode, error,
// possible_duplicate, … when not empty). The stream entry has every field
// (empty ones as ""), as before.
//
// Returns one reply per invite: 1 when recorded, 0 when the invite was
// already final, {"error", message}.
//
// It keeps each campaign's pace for its ETA (eta.go): "pace_gap_ms", a
// moving average (weight 1/10) of the time between two finished invites,
// and "pace_at_ms", the last finish. A gap is counted at most 4 times the
// average, so a worker stopped for a night does not make the next hours'
// estimate absurd. The pace moves once per batch: a batch's finishes are
// one gap from the last finish and 0 from each other.
var finishScript = redis.NewScript(luaMove + luaBatch + `
local p, maxlen, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local stream = p .. ':results'
local finished = {}
local function one(key, da, dr, dl, status, dup, first, last)
  local rec = p .. ':invite:' .. key
  local cur = redis.call('HMGET', rec, 'state', 'task_id', 'campaign', 'room_id', 'medium', 'address', 'sender',
    'generation', 'attempts', 'requests', 'rate_limited', 'enqueued_at')
  if cur[1] == 'done' then return 0 end
  local campaign = cur[3]
  local attempts = tonumber(cur[9] or '0') + da
  local requests = tonumber(cur[10] or '0') + dr
  local limited = tonumber(cur[11] or '0') + dl
  if limited ~= 0 or cur[11] then
    redis.call('HSET', rec, 'state', 'done', 'inflight', '0', 'attempts', attempts, 'requests', requests,
      'rate_limited', limited, unpack(ARGV, first, last))
  else
    redis.call('HSET', rec, 'state', 'done', 'inflight', '0', 'attempts', attempts, 'requests', requests,
      unpack(ARGV, first, last))
  end
  if cur[1] then count(campaign, 'state:' .. cur[1], -1) end
  count(campaign, 'state:done', 1)
  count(campaign, 'status:' .. status, 1)
  count(campaign, 'requests', dr)
  count(campaign, 'rate_limited', dl)
  if dup == '1' then count(campaign, 'possible_duplicates', 1) end
  finished[campaign] = (finished[campaign] or 0) + 1
  local f = {}
  for j = first, last, 2 do f[ARGV[j]] = ARGV[j + 1] end
  local function v(x) return x or '' end
  local entry = {'key', key, 'task_id', v(cur[2]), 'campaign', v(campaign), 'room_id', v(cur[4]), 'medium', v(cur[5]),
    'address', v(cur[6]), 'sender', v(cur[7]), 'generation', v(cur[8]), 'status_code', v(f.status_code),
    'status', v(f.status), 'http_status', v(f.http_status), 'errcode', v(f.errcode), 'error', v(f.error),
    'attempts', attempts, 'requests', requests, 'rate_limited', limited, 'possible_duplicate', dup,
    'enqueued_at', v(cur[12]), 'finished_at', v(f.finished_at)}
  if maxlen > 0 then
    redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', unpack(entry))
  else
    redis.call('XADD', stream, '*', unpack(entry))
  end
  if ttl > 0 then redis.call('PEXPIRE', rec, ttl) end
  return 1
end
local out, i = {}, 4
while i <= #ARGV do
  local first, last = i + 7, i + 6 + 2 * tonumber(ARGV[i + 6])
  local ok, res = pcall(one, ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]),
    ARGV[i + 4], ARGV[i + 5], first, last)
  if not ok then res = failure(res) end
  table.insert(out, res)
  i = last + 1
end
apply_counts(p)
-- The pace, once per campaign of the batch.
local now
for campaign, n in pairs(finished) do
  now = now or now_ms()
  local counts = counts_of(p, campaign)
  local g = redis.call('HMGET', counts, 'pace_gap_ms', 'pace_at_ms')
  local avg, at = tonumber(g[1]), tonumber(g[2])
  if at then
    local gap = now - at
    if avg then gap = math.min(gap, 4 * avg); avg = avg * 0.9 + gap * 0.1 else avg = gap end
    avg = avg * 0.9 ^ (n - 1)
    redis.call('HSET', counts, 'pace_gap_ms', string.format('%.1f', avg), 'pace_at_ms', now)
  else
    redis.call('HSET', counts, 'pace_at_ms', now)
  end
end
return out
`)
