package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gate is libQuotient's connection-wide rate limiting, shared by every worker
// process through Redis (gap #4 of the reference): one 429 suspends every
// invite of the same sender for the advised time, and afterwards invites are
// released one by one, spaced by a pace learned from the server's advice.
//
// The pace (interval) starts as the advised delay of the last 429 — for a
// token bucket such as Synapse's that is the time until its next token, i.e.
// the allowed rate — and shrinks by a quarter after every quiet period, so a
// raised limit is found again. Time comes from Redis (TIME), so every process
// reads the same clock.
type gate struct {
	rdb redis.UniversalClient
	k   keys
}

// Longest pace the gate keeps between two requests of one sender; an advice
// longer than this (a daily quota, say) delays the next request but does not
// space out the ones after it.
const maxGateInterval = time.Minute

// gateAcquireScript reserves the sender's next send slot.
//
// KEYS[1] the gate hash. ARGV[1] the longest wait the caller will sleep (ms).
// Returns {wait_ms, reserved}: reserved 1 means the slot is taken and the
// caller sends after wait_ms; 0 means the wait is longer than it will sleep
// (nothing reserved: it comes back later and asks again).
var gateAcquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local g = redis.call('HMGET', KEYS[1], 'until', 'interval', 'quiet_since')
local untl, interval, quiet = tonumber(g[1]) or 0, tonumber(g[2]) or 0, tonumber(g[3]) or 0
if untl <= now and interval == 0 then return {0, 1} end
if interval > 0 and now - quiet >= math.max(2000, 4 * interval) then
  interval = math.floor(interval * 3 / 4)
  if interval < 1 then interval = 0 end
  redis.call('HSET', KEYS[1], 'interval', interval, 'quiet_since', now)
end
local slot = math.max(now, untl)
if slot - now > tonumber(ARGV[1]) then return {slot - now, 0} end
redis.call('HSET', KEYS[1], 'until', slot + interval)
redis.call('PEXPIRE', KEYS[1], slot + interval - now + 600000)
return {slot - now, 1}
`)

// gateLimitedScript records a 429: nothing is sent before now + advice, and
// the pace becomes the advice (capped).
//
// KEYS[1] the gate hash. ARGV[1] advised delay (ms), ARGV[2] pace cap (ms).
// Returns the time (ms from now) until the gate opens.
var gateLimitedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local advice = tonumber(ARGV[1])
local untl = math.max(tonumber(redis.call('HGET', KEYS[1], 'until') or '0'), now + advice)
local interval = math.min(advice, tonumber(ARGV[2]))
redis.call('HSET', KEYS[1], 'until', untl, 'interval', interval, 'quiet_since', now)
redis.call('PEXPIRE', KEYS[1], untl - now + 600000)
return untl - now
`)

// acquire reserves the sender's next slot if it is at most maxWait away.
func (g *gate) acquire(ctx context.Context, sender string, maxWait time.Duration) (wait time.Duration, reserved bool, err error) {
	res, err := gateAcquireScript.Run(ctx, g.rdb, []string{g.k.gate(sender)}, maxWait.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, false, fmt.Errorf("rate-limit gate of %q: %w", sender, err)
	}
	return time.Duration(res[0]) * time.Millisecond, res[1] == 1, nil
}

// limited closes the sender's gate for the advised delay.
func (g *gate) limited(ctx context.Context, sender string, advice time.Duration) error {
	ms := (advice + time.Millisecond - 1).Milliseconds() // round up: never early
	err := gateLimitedScript.Run(ctx, g.rdb, []string{g.k.gate(sender)}, ms, maxGateInterval.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("rate-limit gate of %q: %w", sender, err)
	}
	return nil
}
