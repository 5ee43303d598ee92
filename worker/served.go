package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Workers say, every servedBeat, which sender profiles they serve
// ({prefix}:senders: name -> ms of the last beat), so that status can tell
// an invite waiting for a worker that serves its sender from one merely
// queued.
const (
	servedBeat  = 10 * time.Second
	servedStale = 3 * servedBeat
)

func (k keys) senders() string { return k.prefix + ":senders" }

// beat records that this worker serves its senders now.
func (w *Worker) beat(ctx context.Context) error {
	now := time.Now().UnixMilli()
	args := make([]any, 0, 2*len(w.handler.senders))
	for name := range w.handler.senders {
		args = append(args, name, now)
	}
	return w.rdb.HSet(ctx, w.handler.store.k.senders(), args...).Err()
}

// serveBeats beats until ctx ends.
func (w *Worker) serveBeats(ctx context.Context) {
	t := time.NewTicker(servedBeat)
	defer t.Stop()
	for {
		if err := w.beat(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn().Err(err).Msg("recording the senders this worker serves")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SenderServed reports whether a running worker served sender recently.
func (s *Store) SenderServed(ctx context.Context, sender string) (bool, error) {
	v, err := s.rdb.HGet(ctx, s.k.senders(), sender).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("read the senders served: %w", err)
	}
	ms, _ := strconv.ParseInt(v, 10, 64)
	return ms > 0 && time.Since(time.UnixMilli(ms)) < servedStale, nil
}
