package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// cleanUp deletes what the demo wrote to a Redis it was given: the keys
// under its fresh prefix, and its asynq queue (the queue's keys and its
// entry in asynq's queue set). Both names are unique to this run, so
// nothing else is touched.
func cleanUp(rdb redis.UniversalClient, prefix, queue string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := asynq.NewInspectorFromRedisClient(rdb).DeleteQueue(queue, true)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		err = nil
	}
	// DeleteQueue leaves asynq's daily statistics keys behind; the prefix
	// holds the invite records, campaign counters and results stream.
	for _, pattern := range []string{prefix + ":*", "asynq:{" + queue + "}*"} {
		if derr := deleteMatching(ctx, rdb, pattern); err == nil {
			err = derr
		}
	}
	if err == nil {
		err = rdb.SRem(ctx, "asynq:queues", queue).Err()
	}
	if err != nil {
		return fmt.Errorf("clean up keys %s:* and queue %s: %w", prefix, queue, err)
	}
	return nil
}

// deleteMatching deletes the keys matching pattern, a SCAN page at a time.
func deleteMatching(ctx context.Context, rdb redis.UniversalClient, pattern string) error {
	iter := rdb.Scan(ctx, 0, pattern, 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := rdb.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return rdb.Del(ctx, batch...).Err()
	}
	return nil
}
