package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
)

// cleanUp deletes what the demo wrote to a Redis it was given: the keys
// under its fresh prefix, and its asynq queue (the queue's keys and its
// entry in asynq's queue set). Both names are unique to this run, so
// nothing else is touched.
func cleanUp(store *rdb.Client, queue string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := asynq.NewInspectorFromRedisClient(store.Conn()).DeleteQueue(queue, true)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		err = nil
	}
	// DeleteQueue leaves asynq's daily statistics keys behind; the prefix
	// holds the invite records, campaign counters and results stream.
	if derr := store.DeleteNamespace(ctx, queue); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("clean up keys %s:* and queue %s: %w", store.Keys().Prefix(), queue, err)
	}
	return nil
}
