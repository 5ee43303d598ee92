package rdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Get reads one invite's record; ok is false when there is none.
func (c *Client) Get(ctx context.Context, key string) (r record.Result, ok bool, err error) {
	h, ok, err := c.inviteHash(ctx, key)
	if !ok {
		return record.Result{}, false, err
	}
	return resultFromHash(key, h), true, nil
}

// inviteHash reads one invite's record, with what a finished record
// shares with its campaign filled in (sharedFill); ok is false when there is
// none (or on error).
func (c *Client) inviteHash(ctx context.Context, key string) (map[string]string, bool, error) {
	h, err := c.rdb.HGetAll(ctx, c.k.invite(key)).Result()
	if err != nil {
		return nil, false, fmt.Errorf("read invite %s: %w", key, err)
	}
	if len(h) == 0 {
		return nil, false, nil
	}
	if err := c.sharedFill().fill(ctx, h); err != nil {
		return nil, false, err
	}
	return h, true, nil
}

// Holders returns the Holder of each invite's record, by invite key, in one
// round trip. It writes nothing, so a dry run can tell what an import would
// do.
func (c *Client) Holders(ctx context.Context, keys []string) ([]record.Holder, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.SliceCmd, len(keys))
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.HMGet(ctx, c.k.invite(k), "state", "campaign")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the state of %d invites: %w", len(keys), err)
	}
	out := make([]record.Holder, len(keys))
	for i, cmd := range cmds {
		v := cmd.Val() // nil values: no record
		if len(v) == 2 {
			state, _ := v[0].(string)
			out[i].State = record.State(state)
			out[i].Campaign, _ = v[1].(string)
		}
	}
	return out, nil
}

// resultsPage is how many records Results reads per round trip.
const resultsPage = 500

// Results calls fn for every invite record of the campaign, in enqueue
// order, reading them a page at a time (memory does not grow with the
// campaign). fn returning an error stops the walk with that error.
func (c *Client) Results(ctx context.Context, campaign string, fn func(record.Result) error) error {
	shared := c.sharedFill()
	return c.walkIndex(ctx, campaign, resultsPage, func(entries []indexEntry) error {
		cmds := make([]*redis.MapStringStringCmd, len(entries))
		_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, e := range entries {
				cmds[i] = p.HGetAll(ctx, c.k.invite(e.key))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read invites of campaign %q: %w", campaign, err)
		}
		for i, cmd := range cmds {
			h := cmd.Val()
			if !entries[i].holds(campaign, entryRecord{exists: len(h) > 0, campaign: h["campaign"], position: h[fieldPosition]}) {
				continue
			}
			if err := shared.fill(ctx, h); err != nil {
				return err
			}
			if err := fn(resultFromHash(entries[i].key, h)); err != nil {
				return err
			}
		}
		return nil
	})
}
