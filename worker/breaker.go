package worker

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// The campaign breaker: when the first N finished invites of a campaign all
// ended with the same failure status and none succeeded, the cause is the
// campaign's (a server without 3PID invites answers every address 404
// M_NOT_FOUND; a room the sender cannot invite to, 403), not the
// addresses': the campaign pauses (pause.go) before it burns the rest of
// its list. synapse-admin's CSV import stops at the first error; this stops
// after N, which tells a sick campaign from a few bad addresses.

// breakerScript evaluates the breaker once a campaign has N finished
// invites, after a failure.
//
// KEYS[1] the campaign's counters, KEYS[2] its pause hash, KEYS[3] the
// pauses zset. ARGV[1] N, ARGV[2] the failed status name, ARGV[3] the
// campaign name, ARGV[4] the pause's reason.
// Returns 1 when it paused the campaign, 0 when not yet evaluated (fewer
// than N finished), -1 when evaluated (now or before) without pausing.
var breakerScript = redis.NewScript(luaSetPause + `
local h = redis.call('HGETALL', KEYS[1])
local finished, same, checked = 0, 0, false
for i = 1, #h, 2 do
  local f, v = h[i], tonumber(h[i + 1]) or 0
  if f == 'breaker' then checked = true
  elseif string.sub(f, 1, 7) == 'status:' then
    finished = finished + v
    if f == 'status:' .. ARGV[2] then same = v end
  end
end
if checked then return -1 end
if finished < tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'breaker', 1)
if same ~= finished then return -1 end
if set_pause(KEYS[2], KEYS[3], 'campaign:' .. ARGV[3], 'breaker', ARGV[4]) == 0 then return -1 end
return 1
`)

// breaker remembers which campaigns' breakers were already evaluated, so
// that their later failures cost no round trip.
type breaker struct {
	n    int
	mu   sync.Mutex
	done map[string]bool
}

func newBreaker(n int) *breaker { return &breaker{n: n, done: map[string]bool{}} }

// failed evaluates the breaker after a failed final of campaign; it
// returns whether it paused the campaign.
func (b *breaker) failed(ctx context.Context, s *Store, campaign string, f final) (bool, error) {
	if b.n <= 0 {
		return false, nil
	}
	b.mu.Lock()
	done := b.done[campaign]
	b.mu.Unlock()
	if done {
		return false, nil
	}
	reason := fmt.Sprintf("the first %d finished invites all ended %s (%d)%s: the homeserver may not support 3PID invites, or the room or sender is wrong; fix it, then run: mxinvite resume --campaign %s",
		b.n, f.status.Code, int(f.status.Code), detail(f), campaign)
	res, err := breakerScript.Run(ctx, s.rdb,
		[]string{s.k.counts(campaign), s.k.pause(PauseCampaign, campaign), s.k.pauses()},
		b.n, f.status.Code.String(), campaign, reason).Int()
	if err != nil {
		return false, fmt.Errorf("campaign breaker of %q: %w", campaign, err)
	}
	if res != 0 {
		b.mu.Lock()
		b.done[campaign] = true
		b.mu.Unlock()
	}
	return res == 1, nil
}

func detail(f final) string {
	switch {
	case f.errcode != "":
		return fmt.Sprintf(", HTTP %d %s %q", f.httpStatus, f.errcode, f.status.Message)
	case f.httpStatus != 0:
		return fmt.Sprintf(", HTTP %d %q", f.httpStatus, f.status.Message)
	}
	return fmt.Sprintf(" %q", f.status.Message)
}
