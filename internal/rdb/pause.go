package rdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Pauses are kept as {prefix}:pause:{scope}:{name} (hash: kind, reason,
// since_ms) and listed in {prefix}:pauses (zset of "{scope}:{name}",
// scored by since_ms). What a pause means: record/pause.go.

// luaSetPause records a pause unless one is already there (the first
// reason and time stay: a second worker meeting the same dead token does not
// move "since"). pauseSetScript and breakerScript share it.
const luaSetPause = `
local function set_pause(pause, pauses, member, kind, reason)
  if redis.call('EXISTS', pause) == 1 then return 0 end
  local now = now_ms()
  redis.call('HSET', pause, 'kind', kind, 'reason', reason, 'since_ms', now)
  redis.call('ZADD', pauses, now, member)
  return 1
end
`

// pauseSetScript records a pause (luaSetPause).
//
// KEYS[1] -> the pause hash
// KEYS[2] -> {prefix}:pauses
// ARGV[1] -> "{scope}:{name}"
// ARGV[2] -> kind
// ARGV[3] -> reason
//
// Returns 1 when set, 0 when already paused.
var pauseSetScript = newScript("pauseSet", stateless(luaSetPause, `
return set_pause(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3])
`))

// SetPause pauses a sender or campaign; created is false when it already
// was paused (the earlier pause is kept).
func (c *Client) SetPause(ctx context.Context, scope record.PauseScope, name, kind, reason string) (created bool, err error) {
	n, err := pauseSetScript.Run(ctx, c.rdb, []string{c.k.pause(string(scope), name), c.k.pauses()},
		pauseMember(string(scope), name), kind, reason).Int()
	if err != nil {
		return false, fmt.Errorf("pause %s %q: %w", scope, name, err)
	}
	return n == 1, nil
}

// ClearPause ends a pause; ok is false when there was none. With kinds given,
// only a pause of one of those kinds ends (a worker that got a new token
// ends a dead-token pause, not an operator's).
func (c *Client) ClearPause(ctx context.Context, scope record.PauseScope, name string, kinds ...string) (ok bool, err error) {
	key := c.k.pause(string(scope), name)
	if len(kinds) > 0 {
		kind, err := c.rdb.HGet(ctx, key, "kind").Result()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read pause of %s %q: %w", scope, name, err)
		}
		if !slices.Contains(kinds, kind) {
			return false, nil
		}
	}
	var del *redis.IntCmd
	_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, key)
		p.ZRem(ctx, c.k.pauses(), pauseMember(string(scope), name))
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("resume %s %q: %w", scope, name, err)
	}
	return del.Val() == 1, nil
}

// GetPause reads one pause; nil when there is none.
func (c *Client) GetPause(ctx context.Context, scope record.PauseScope, name string) (*record.Pause, error) {
	h, err := c.rdb.HGetAll(ctx, c.k.pause(string(scope), name)).Result()
	if err != nil {
		return nil, fmt.Errorf("read pause of %s %q: %w", scope, name, err)
	}
	if len(h) == 0 {
		return nil, nil
	}
	return pauseFromHash(scope, name, h), nil
}

// PauseOf returns the pause holding a campaign's invites sent as sender: the
// campaign's own pause first, else the sender's; nil when neither is paused.
func (c *Client) PauseOf(ctx context.Context, campaign, sender string) (*record.Pause, error) {
	if p, err := c.GetPause(ctx, record.PauseCampaign, campaign); p != nil || err != nil {
		return p, err
	}
	if sender == "" {
		return nil, nil
	}
	return c.GetPause(ctx, record.PauseSender, sender)
}

// Pauses lists every pause, oldest first.
func (c *Client) Pauses(ctx context.Context) ([]record.Pause, error) {
	members, err := c.rdb.ZRange(ctx, c.k.pauses(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	var out []record.Pause
	for _, m := range members {
		scope, name, _ := strings.Cut(m, ":")
		p, err := c.GetPause(ctx, record.PauseScope(scope), name)
		if err != nil {
			return nil, err
		}
		if p != nil {
			out = append(out, *p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out, nil
}

func pauseFromHash(scope record.PauseScope, name string, h map[string]string) *record.Pause {
	ms, _ := strconv.ParseInt(h["since_ms"], 10, 64)
	return &record.Pause{Scope: scope, Name: name, Kind: h["kind"], Reason: h["reason"], Since: time.UnixMilli(ms).UTC()}
}

// AllPaused returns an error naming the pauses when every one of senders
// is paused (by any worker process), nil otherwise: a worker whose senders
// are all paused sends nothing, which readiness reports.
func (c *Client) AllPaused(ctx context.Context, senders []string) error {
	if len(senders) == 0 {
		return nil
	}
	var reasons []string
	for _, name := range senders {
		p, err := c.GetPause(ctx, record.PauseSender, name)
		if err != nil {
			return err
		}
		if p == nil {
			return nil
		}
		reasons = append(reasons, p.Name+": "+p.Reason)
	}
	return fmt.Errorf("every sender is paused (%s)", strings.Join(reasons, "; "))
}
