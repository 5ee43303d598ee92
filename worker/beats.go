package worker

import (
	"context"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
)

// serveBeats records, every rdb.ServedBeat until ctx ends, which senders
// this worker serves, so that status can tell an invite waiting for a
// worker that serves its sender from one merely queued.
func (w *Worker) serveBeats(ctx context.Context) {
	names := make([]string, 0, len(w.handler.senders))
	for name := range w.handler.senders {
		names = append(names, name)
	}
	t := time.NewTicker(rdb.ServedBeat)
	defer t.Stop()
	for {
		if err := w.store.Beat(ctx, names); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn().Err(err).Msg("recording the senders this worker serves")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
