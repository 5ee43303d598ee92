package rdb

import (
	"context"
	"fmt"
)

// DeleteNamespace deletes every key of mxinvite's own under the client's
// prefix and every key of asynq's queue and of its lanes (their task keys,
// daily statistics, entries in asynq's queue set), a SCAN page at a time. It is
// for throwaway namespaces (the demo's, with a prefix and queue unique to
// its run): it deletes whatever matches.
func (c *Client) DeleteNamespace(ctx context.Context, queue string) error {
	queues, err := c.QueuesUnder(ctx, queue)
	if err != nil {
		return err
	}
	for _, pattern := range []string{c.k.ownPattern(), asynqQueuePattern(queue), asynqLanesPattern(queue)} {
		if err := c.deleteMatching(ctx, pattern); err != nil {
			return fmt.Errorf("delete keys %s: %w", pattern, err)
		}
	}
	for _, q := range append(queues, queue) {
		if err := c.rdb.SRem(ctx, asynqQueues, q).Err(); err != nil {
			return fmt.Errorf("forget queue %s: %w", q, err)
		}
	}
	return nil
}

// deleteMatching deletes the keys matching pattern, a SCAN page at a time.
func (c *Client) deleteMatching(ctx context.Context, pattern string) error {
	iter := c.rdb.Scan(ctx, 0, pattern, 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := c.rdb.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.rdb.Del(ctx, batch...).Err()
	}
	return nil
}
