package rdb

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
)

// The funnel of a campaign (record.Funnel): "delivery:{delivery}" counts
// successes by how they went (finish.go), "registered" the records with
// registered_at_ms (a 3PID invitee whose address is now bound to an
// account), "joined" those with joined_at_ms (the invitee is in the room).
// mxinvite track (worker/track.go) looks again at each finished invite and
// records what it saw with Track; the counters move only when a record's
// field appears or goes, so tracking twice counts nothing twice. forget
// (lua.go) takes a record's share back.

// trackScript records what a look at the invitees saw.
//
// KEYS[1] -> the campaign's counts
// KEYS[1+i] -> invite i's record
// ARGV[1] -> the campaign (records of another campaign are left alone)
// ARGV[2..] -> per invite i, 2 values: the account its address is bound to
//
//	now ("" when not known or not looked up), and "1" joined now, "0" not
//	joined (a record's joined_at_ms goes), "" not known
//
// A newly seen account is kept as user_id; for a 3PID invite
// (delivery "3pid", or a success from before resolve-first, which has no
// delivery) that had none, registered_at_ms is set to now. A join sets
// joined_at_ms (now) once. Returns the number of records changed.
var trackScript = newScript("track", script(`
local campaign, now, changed = ARGV[1], nil, 0
local function at() now = now or now_ms(); return now end
for i = 2, #KEYS do
  local rec, bound, joined = KEYS[i], ARGV[2 * (i - 1)], ARGV[2 * (i - 1) + 1]
  local cur = redis.call('HMGET', rec, 'state', 'campaign', 'status', 'delivery', 'user_id', 'registered_at_ms', 'joined_at_ms')
  if cur[1] == ST.done and cur[2] == campaign and (cur[3] or 'Success') == 'Success' then -- a Success keeps no status
    local moved = false
    if bound ~= '' and not cur[5] then
      redis.call('HSET', rec, 'user_id', bound)
      moved = true
      if (cur[4] == '3pid' or not cur[4]) and not cur[6] then
        redis.call('HSET', rec, 'registered_at_ms', at())
        redis.call('HINCRBY', KEYS[1], 'registered', 1)
      end
    end
    if joined == '1' and not cur[7] then
      redis.call('HSET', rec, 'joined_at_ms', at())
      redis.call('HINCRBY', KEYS[1], 'joined', 1)
      moved = true
    elseif joined == '0' and cur[7] then
      redis.call('HDEL', rec, 'joined_at_ms')
      redis.call('HINCRBY', KEYS[1], 'joined', -1)
      moved = true
    end
    if moved then changed = changed + 1 end
  end
end
return changed
`))

// Seen is what a look at one invitee found: Bound is the account its
// address is bound to now ("" when not known), Joined whether that account
// is in the room (SeenUnknown: not looked at).
type Seen struct {
	Key    string
	Bound  string
	Joined Tri
}

// Tri is yes, no or not known.
type Tri int

// The values of a Tri.
const (
	SeenUnknown Tri = iota
	SeenYes
	SeenNo
)

// trackPage is how many records one trackScript call updates.
const trackPage = 200

// Track records what mxinvite track saw of campaign's invitees and moves
// its funnel counters; it returns how many records changed.
func (c *Client) Track(ctx context.Context, campaign string, seen []Seen) (int, error) {
	total := 0
	for len(seen) > 0 {
		page := seen[:min(len(seen), trackPage)]
		seen = seen[len(page):]
		keys := []string{c.k.counts(campaign)}
		args := []any{campaign}
		for _, s := range page {
			keys = append(keys, c.k.invite(s.Key))
			joined := ""
			switch s.Joined {
			case SeenYes:
				joined = "1"
			case SeenNo:
				joined = "0"
			}
			args = append(args, s.Bound, joined)
		}
		n, err := trackScript.Run(ctx, c.rdb, keys, args...).Int()
		if err != nil {
			return total, fmt.Errorf("record what track saw of campaign %q: %w", campaign, err)
		}
		total += n
	}
	return total, nil
}

// Funnels reads every campaign's funnel (for /metrics).
func (c *Client) Funnels(ctx context.Context) (map[string]record.Funnel, error) {
	names, err := c.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.MapStringStringCmd, len(names))
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, n := range names {
			cmds[i] = p.HGetAll(ctx, c.k.counts(n))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the funnels of %d campaigns: %w", len(names), err)
	}
	out := make(map[string]record.Funnel, len(names))
	for i, n := range names {
		out[n] = countsFromHash(n, cmds[i].Val(), 0).Funnel
	}
	return out, nil
}

// Funnel reads a campaign's funnel.
func (c *Client) Funnel(ctx context.Context, campaign string) (record.Funnel, error) {
	counts, err := c.Counts(ctx, campaign)
	return counts.Funnel, err
}
