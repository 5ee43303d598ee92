package rdb

import (
	"context"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/record"
)

// breakerScript evaluates a campaign's breaker (worker/breaker.go) once the
// campaign has N finished invites, after a failure.
//
// KEYS[1] -> the campaign's counts
// KEYS[2] -> the campaign's pause
// KEYS[3] -> {prefix}:pauses
// ARGV[1] -> N
// ARGV[2] -> the failed status name
// ARGV[3] -> the pause's member in {prefix}:pauses ("campaign:{name}")
// ARGV[4] -> the pause's reason
// ARGV[5] -> the pause's kind
//
// Returns 1 when it paused the campaign, 0 when not yet evaluated (fewer
// than N finished), -1 when evaluated (now or before) without pausing.
var breakerScript = newScript("breaker", stateless(luaSetPause, `
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
if set_pause(KEYS[2], KEYS[3], ARGV[3], ARGV[5], ARGV[4]) == 0 then return -1 end
return 1
`))

// BreakerVerdict is what an evaluation of a campaign's breaker said.
type BreakerVerdict int

// The breaker's verdicts.
const (
	// BreakerNotYet: fewer than N invites of the campaign are final.
	BreakerNotYet BreakerVerdict = 0
	// BreakerTripped: the first N all failed alike: the campaign is paused.
	BreakerTripped BreakerVerdict = 1
	// BreakerPassed: evaluated (now or before) without pausing.
	BreakerPassed BreakerVerdict = -1
)

// Breaker evaluates the breaker of campaign after an invite of it ended
// status: when its first n finished invites all ended so, the campaign is
// paused with reason.
func (c *Client) Breaker(ctx context.Context, campaign string, n int, status, reason string) (BreakerVerdict, error) {
	res, err := breakerScript.Run(ctx, c.rdb,
		[]string{c.k.counts(campaign), c.k.pause(string(record.PauseCampaign), campaign), c.k.pauses()},
		n, status, pauseMember(string(record.PauseCampaign), campaign), reason, record.PauseBreaker).Int()
	if err != nil {
		return 0, fmt.Errorf("campaign breaker of %q: %w", campaign, err)
	}
	return BreakerVerdict(res), nil
}
