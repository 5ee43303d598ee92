package rdb

import (
	"context"
	"fmt"
	"time"
)

// The schedule store keeps recurring campaigns: definitions and last ticks
// as JSON documents (internal/schedule defines them), and tick claims.

// SetSchedule stores (or replaces) a recurring campaign's definition.
func (c *Client) SetSchedule(ctx context.Context, name string, definition []byte) error {
	if err := c.rdb.HSet(ctx, c.k.schedules(), name, definition).Err(); err != nil {
		return fmt.Errorf("store recurring campaign %q: %w", name, err)
	}
	return nil
}

// RemoveSchedule deletes a definition and its last tick; removed is false
// when there was none.
func (c *Client) RemoveSchedule(ctx context.Context, name string) (removed bool, err error) {
	n, err := c.rdb.HDel(ctx, c.k.schedules(), name).Result()
	if err == nil {
		err = c.rdb.HDel(ctx, c.k.scheduleTicks(), name).Err()
	}
	if err != nil {
		return false, fmt.Errorf("remove recurring campaign %q: %w", name, err)
	}
	return n == 1, nil
}

// Schedules returns every definition, by name.
func (c *Client) Schedules(ctx context.Context) (map[string][]byte, error) {
	return c.jsonHash(ctx, c.k.schedules(), "list recurring campaigns")
}

// SetScheduleTick keeps tick as a campaign's last tick.
func (c *Client) SetScheduleTick(ctx context.Context, name string, tick []byte) error {
	if err := c.rdb.HSet(ctx, c.k.scheduleTicks(), name, tick).Err(); err != nil {
		return fmt.Errorf("record the tick of %q: %w", name, err)
	}
	return nil
}

// ScheduleTicks returns each campaign's last tick, by name.
func (c *Client) ScheduleTicks(ctx context.Context) (map[string][]byte, error) {
	return c.jsonHash(ctx, c.k.scheduleTicks(), "read the last ticks")
}

func (c *Client) jsonHash(ctx context.Context, key, what string) (map[string][]byte, error) {
	h, err := c.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out := make(map[string][]byte, len(h))
	for name, v := range h {
		out[name] = []byte(v)
	}
	return out, nil
}

// ClaimTick takes tick t of a campaign for one scheduler: SET NX, so when
// several schedulers run only the first to ask fires it (asynq's scheduler
// has no leader election). The claim expires after a day.
func (c *Client) ClaimTick(ctx context.Context, name string, tick time.Time, owner string) (bool, error) {
	ok, err := c.rdb.SetNX(ctx, c.k.scheduleTick(name, tick), owner, 24*time.Hour).Result()
	if err != nil {
		return false, fmt.Errorf("claim tick of %q: %w", name, err)
	}
	return ok, nil
}
