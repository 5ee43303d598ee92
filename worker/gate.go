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
// released one by one, spaced by a pace (interval) learned from the server.
//
// A token bucket such as Synapse's advises the time until its next token,
// which is at most 1/rate: the pace starts at the advice, keeps the largest
// advice seen, and grows by a tenth whenever a request sent at the current
// pace is still limited (requests already in flight when the pace was set do
// not count, so one burst does not compound). After a quiet period it shrinks
// by a tenth, so a raised limit is found again at the cost of an occasional
// 429. A request whose slot was reserved before a 429 is held back at the
// last moment (gateSendScript) until the advised time. Time comes from Redis (TIME), so every process reads the same clock.
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
// Returns {wait_ms, reserved, slot_ms}: reserved 1 means the slot is taken
// and the caller sends after wait_ms, at slot_ms (Redis time); 0 means the
// wait is longer than it will sleep (nothing reserved: it asks again later).
var gateAcquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local g = redis.call('HMGET', KEYS[1], 'until', 'interval', 'quiet_since')
local untl, interval, quiet = tonumber(g[1]) or 0, tonumber(g[2]) or 0, tonumber(g[3]) or 0
if untl <= now and interval == 0 then return {0, 1, now} end
if interval > 0 and now - quiet >= math.max(1000, 10 * interval) then
  interval = math.floor(interval * 9 / 10)
  if interval < 1 then interval = 0 end
  redis.call('HSET', KEYS[1], 'interval', interval, 'quiet_since', now)
end
local slot = math.max(now, untl)
if slot - now > tonumber(ARGV[1]) then return {slot - now, 0, slot} end
redis.call('HSET', KEYS[1], 'until', slot + interval)
redis.call('PEXPIRE', KEYS[1], slot + interval - now + 600000)
return {slot - now, 1, slot}
`)

// gateSendScript is the last step before a request goes out: if a 429
// arrived after the caller reserved its slot and its advised time has not
// come yet, nothing is sent (the caller waits and asks the gate again).
// Otherwise, in the same round trip, the request is marked in flight — if
// the worker dies before recording the answer, the next delivery knows the
// outcome is unknown — and counted now, so a crash can only over-count.
//
// KEYS[1] the gate hash. ARGV[1] prefix, ARGV[2] invite key.
// Returns 0 when marked sending, else the ms to wait before asking again.
var gateSendScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0')
if blocked > now then return blocked - now end
local p, key = ARGV[1], ARGV[2]
local rec = p .. ':invite:' .. key
redis.call('HSET', rec, 'inflight', '1')
redis.call('HINCRBY', rec, 'requests', 1)
redis.call('HINCRBY', p .. ':campaign:' .. redis.call('HGET', rec, 'campaign') .. ':counts', 'requests', 1)
return 0
`)

// gateLimitedScript records a 429: nothing is sent before now + advice, and
// the pace adapts (see gate).
//
// KEYS[1] the gate hash. ARGV[1] advised delay (ms), ARGV[2] pace cap (ms),
// ARGV[3] when the limited request was sent (slot_ms from acquire).
// Returns the time (ms from now) until the gate opens.
var gateLimitedScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local advice, cap, sent = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local g = redis.call('HMGET', KEYS[1], 'until', 'interval', 'quiet_since')
local untl = math.max(tonumber(g[1]) or 0, now + advice)
local interval, paced_since = tonumber(g[2]) or 0, tonumber(g[3]) or 0
local blocked = math.max(tonumber(redis.call('HGET', KEYS[1], 'blocked_until') or '0'), now + advice)
if interval > 0 and sent >= paced_since then
  interval = math.max(advice, math.ceil(interval * 11 / 10))
else
  interval = math.max(advice, interval)
end
interval = math.min(interval, cap)
redis.call('HSET', KEYS[1], 'until', untl, 'interval', interval, 'quiet_since', now, 'blocked_until', blocked)
redis.call('PEXPIRE', KEYS[1], untl - now + 600000)
return untl - now
`)

// slot is a reserved send time.
type slot struct {
	wait     time.Duration // from now until the slot
	reserved bool          // false: the slot is further than the caller waits
	at       int64         // the slot in Redis time, ms
}

// acquire reserves the sender's next slot if it is at most maxWait away.
func (g *gate) acquire(ctx context.Context, sender string, maxWait time.Duration) (slot, error) {
	res, err := gateAcquireScript.Run(ctx, g.rdb, []string{g.k.gate(sender)}, maxWait.Milliseconds()).Int64Slice()
	if err != nil {
		return slot{}, fmt.Errorf("rate-limit gate of %q: %w", sender, err)
	}
	return slot{wait: time.Duration(res[0]) * time.Millisecond, reserved: res[1] == 1, at: res[2]}, nil
}

// send marks the invite's request as going out now, unless a 429 advised a
// later time since the slot was reserved: then it returns how long to wait.
func (g *gate) send(ctx context.Context, sender, key string) (time.Duration, error) {
	ms, err := gateSendScript.Run(ctx, g.rdb, []string{g.k.gate(sender)}, g.k.prefix, key).Int64()
	if err != nil {
		return 0, fmt.Errorf("mark invite %s sending: %w", key, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// limited closes the sender's gate for the advised delay; sent is the slot
// the limited request went out in.
func (g *gate) limited(ctx context.Context, sender string, advice time.Duration, sent int64) error {
	ms := (advice + time.Millisecond - 1).Milliseconds() // round up: never early
	err := gateLimitedScript.Run(ctx, g.rdb, []string{g.k.gate(sender)}, ms, maxGateInterval.Milliseconds(), sent).Err()
	if err != nil {
		return fmt.Errorf("rate-limit gate of %q: %w", sender, err)
	}
	return nil
}
