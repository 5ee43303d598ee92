package rdb

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/redis/go-redis/v9"
)

// The Lua shared by the scripts. Every script is built as
// luaPrelude + its own fragments + its body, so the state names and the
// transition table are the ones of internal/record.

// luaStates declares ST, the state names (record.States), and ALLOWED, the
// transition table (record.Transitions) as one string of "|op/from>to|"
// entries, with "" for "no record". A string, not nested tables: the
// prelude runs on every script call, and building the tables cost each
// call about 10 us of Redis time, five times a bare script's (issue 26's
// R2); a plain find in a constant costs nothing to build. Generated once.
var luaStates = func() string {
	var b strings.Builder
	b.WriteString("local ST = {")
	for _, s := range record.States {
		fmt.Fprintf(&b, "%s = '%s', ", s, s)
	}
	b.WriteString("}\nlocal ALLOWED = '|")
	entries := make([]string, 0, len(record.Transitions))
	for _, t := range record.Transitions {
		entries = append(entries, fmt.Sprintf("%s/%s>%s|", t.Op, t.From, t.To))
	}
	sort.Strings(entries)
	b.WriteString(strings.Join(entries, "|"))
	b.WriteString("'\n")
	return b.String()
}()

// luaCheck refuses a state change the table does not allow (an error: a
// batch script's pcall turns it into that invite's error answer). old and
// new are false or nil for "no record".
const luaCheck = `
local function check(op, old, new)
  old, new = old or '', new or ''
  if old == new then return end
  if not string.find(ALLOWED, '|' .. op .. '/' .. old .. '>' .. new .. '|', 1, true) then
    error('invite state "' .. old .. '" -> "' .. new .. '" by ' .. op .. ' is not in the state table')
  end
end
`

// luaMove moves a record to a new state and keeps its campaign's
// "state:*" counters equal to the records' states. A caller that has
// already read the state passes it as old (false: no record).
const luaMove = `
local function move(counts, rec, new, old, op)
  if old == nil then old = redis.call('HGET', rec, 'state') end
  if old == new then return end
  check(op, old, new)
  if old then redis.call('HINCRBY', counts, 'state:' .. old, -1) end
  redis.call('HINCRBY', counts, 'state:' .. new, 1)
  redis.call('HSET', rec, 'state', new)
end
`

// luaUnlist blanks the entry of key at position pos of a campaign's list
// (order) and counts it out of "indexed" (counts), when it is still key's
// (index.go).
const luaUnlist = `
local function unlist(counts, order, key, pos)
  if pos >= 1 and redis.call('LINDEX', order, pos - 1) == key then
    redis.call('LSET', order, pos - 1, '')
    redis.call('HINCRBY', counts, 'indexed', -1)
  end
end
`

// luaForget deletes a record and its share of its campaign's counters and
// index (counts, index and order must be the record's campaign's: its
// sorted set and its list, index.go), so that a re-invite (a new
// generation) can take its place, or a purge drop it. A record with a
// position blanks its entry of the list and leaves "indexed"; one without
// is removed from the sorted set.
const luaForget = luaUnlist + `
local function forget(rec, key, counts, index, order, op)
  local cur = redis.call('HMGET', rec, 'state', 'status', 'possible_duplicate', 'campaign', 'delivery',
    'joined_at_ms', 'registered_at_ms', 'ix')
  local state = cur[1]
  check(op or 'forget', state, false)
  if state == ST.done and not cur[2] then cur[2] = 'Success' end -- a Success keeps no status (finalFields)
  if cur[4] then
    if state then redis.call('HINCRBY', counts, 'state:' .. state, -1) end
    if state == ST.done and cur[2] then redis.call('HINCRBY', counts, 'status:' .. cur[2], -1) end
    if state == ST.done and cur[3] == '1' then redis.call('HINCRBY', counts, 'possible_duplicates', -1) end
    -- The funnel's share (track.go).
    if state == ST.done and cur[5] and cur[2] == 'Success' then redis.call('HINCRBY', counts, 'delivery:' .. cur[5], -1) end
    if cur[6] then redis.call('HINCRBY', counts, 'joined', -1) end
    if cur[7] then redis.call('HINCRBY', counts, 'registered', -1) end
    if cur[8] then
      unlist(counts, order, key, tonumber(cur[8]))
    else
      redis.call('ZREM', index, key)
    end
  end
  redis.call('DEL', rec)
end
`

// luaTime reads Redis's clock in ms: every process reads the same clock.
const luaTime = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function now_ms_up()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.ceil(tonumber(t[2]) / 1000)
end
`

// luaBatch is shared by the batch scripts (one call for many invites):
// counter deltas summed over the batch and applied once per counters hash
// at the end, and an invite's error turned into its answer.
const luaBatch = `
local deltas, delta_order = {}, {}
local function count(counts, field, d)
  local c = deltas[counts]
  if not c then c = {}; deltas[counts] = c; table.insert(delta_order, counts) end
  c[field] = (c[field] or 0) + d
end
local function apply_counts()
  for _, counts in ipairs(delta_order) do
    for f, d in pairs(deltas[counts]) do
      if d ~= 0 then redis.call('HINCRBY', counts, f, d) end
    end
  end
end
local function failure(e)
  if type(e) == 'table' and e.err then return {'error', e.err} end
  return {'error', tostring(e)}
end
`

// luaPrelude starts every script that writes an invite's state.
var luaPrelude = luaStates + luaCheck + luaMove + luaTime

// script builds the source of a script that writes invite states: the
// prelude and its parts.
func script(parts ...string) string {
	return luaPrelude + strings.Join(parts, "")
}

// stateless builds the source of a script that writes no invite state
// (it has Redis's clock, not the state table).
func stateless(parts ...string) string {
	return luaTime + strings.Join(parts, "")
}

// sources holds every script's source by name, for the tests that check
// them (no key built in Lua, every state name from the table).
var sources = map[string]string{}

// newScript registers a script under name.
func newScript(name, src string) *redis.Script {
	if _, dup := sources[name]; dup {
		panic("rdb: two scripts named " + name)
	}
	sources[name] = src
	return redis.NewScript(src)
}
