package rdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Workers say, every ServedBeat, which sender profiles they serve
// ({prefix}:senders: name -> ms of the last beat), so that status can tell
// an invite waiting for a worker that serves its sender from one merely
// queued.
const (
	ServedBeat  = 10 * time.Second
	servedStale = 3 * ServedBeat
)

// Beat records that a worker serves senders now.
func (c *Client) Beat(ctx context.Context, senders []string) error {
	now := time.Now().UnixMilli()
	args := make([]any, 0, 2*len(senders))
	for _, name := range senders {
		args = append(args, name, now)
	}
	if err := c.rdb.HSet(ctx, c.k.senders(), args...).Err(); err != nil {
		return fmt.Errorf("record the senders served: %w", err)
	}
	return nil
}

// SenderServed reports whether a running worker served sender recently.
func (c *Client) SenderServed(ctx context.Context, sender string) (bool, error) {
	v, err := c.rdb.HGet(ctx, c.k.senders(), sender).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("read the senders served: %w", err)
	}
	ms, _ := strconv.ParseInt(v, 10, 64)
	return ms > 0 && time.Since(time.UnixMilli(ms)) < servedStale, nil
}
