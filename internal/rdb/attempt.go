package rdb

import (
	"context"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// luaTally applies an attempt's deltas and fields to a record and its
// campaign counters (attemptScript's ARGV from ARGV[at]: attempts, requests
// and rate-limited deltas, room, accepted, sent at, the limit's scope,
// then field/value pairs).
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
    if ARGV[at + 6] ~= '' then redis.call('HINCRBY', counts, 'limited:' .. ARGV[at + 6], limited) end
  end
  redis.call('HSET', rec, 'inflight', '0', unpack(ARGV, at + 7))
end
`

// attemptScript records a step of a delivery that is not final: a failed
// attempt, a hold, a hand-back, an abandoned delivery.
//
// KEYS[1] -> the invite's record
// KEYS[2] -> its campaign's counts
// KEYS[3] -> its sender's gate
// ARGV[1] -> the campaign (the record's, as begin returned it)
// ARGV[2] -> new state (record.State)
// ARGV[3] -> the operation (record.Op), checked against the state table
// ARGV[4] -> attempts delta
// ARGV[5] -> requests delta (the answer's request count minus the one
//
//	counted when the request was marked in flight)
//
// ARGV[6] -> rate-limited delta
// ARGV[7] -> the invite's room
// ARGV[8] -> "1" when the server let the answering request through its
//
//	rate limits (evidence for the gate, scope.go)
//
// ARGV[9] -> when that request went out (ms)
// ARGV[10] -> the scope of the 429 ("" for none), counted as "limited:{scope}"
// ARGV[11..] -> field/value pairs (progress fields)
//
// Returns 1, or 0 when the invite was already final (nothing written).
var attemptScript = newScript("attempt", script(luaTally, luaScope, `
local cur = redis.call('HMGET', KEYS[1], 'state', 'campaign')
if cur[1] == ST.done then return 0 end
if cur[2] and cur[2] ~= ARGV[1] then
  return redis.error_reply('record belongs to campaign ' .. cur[2] .. ', not ' .. ARGV[1])
end
tally(KEYS[1], KEYS[2], 4)
move(KEYS[2], KEYS[1], ARGV[2], cur[1], ARGV[3])
if ARGV[8] == '1' and tonumber(ARGV[9]) > 0 then accepted(KEYS[3], ARGV[7], {tonumber(ARGV[9])}) end
return 1
`))

// opInto is the operation that moves a delivered invite into each state.
var opInto = map[record.State]record.Op{
	record.StateActive:   record.OpAttempt,
	record.StateRetrying: record.OpHandBack,
	record.StatePaused:   record.OpHold,
	record.StateQueued:   record.OpAbandon,
}

// Attempt records a non-final step of the invite's delivery: its new state
// (active, retrying, paused or queued) and what the attempt changed; an
// answer that passed the rate limits is evidence for its sender's gate.
func (c *Client) Attempt(ctx context.Context, inv tasks.Invite, p record.Progress, state record.State, u record.AttemptUpdate) error {
	op, ok := opInto[state]
	if !ok {
		return fmt.Errorf("record attempt of invite %s: no step leads into state %q", p.Key, state)
	}
	args := []any{p.Campaign, string(state), string(op), u.Attempts, u.RequestsDelta, u.RateLimited,
		inv.RoomID, boolArg(u.Accepted), u.SentAt, string(u.LimitScope)}
	args = append(args, lastFields(u.Last)...)
	keys := []string{c.k.invite(p.Key), c.k.counts(p.Campaign), c.k.gate(GateName(inv.Sender, p.Path))}
	if err := attemptScript.Run(ctx, c.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("record attempt of invite %s: %w", p.Key, err)
	}
	return nil
}
