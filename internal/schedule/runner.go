package schedule

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/importer"
)

// ImportFunc enqueues a campaign's list once; invites already queued or done
// are skipped by the import itself, so a re-read enqueues only new addresses.
// It returns the import's Stats, which the tick's record keeps.
type ImportFunc func(ctx context.Context, c Campaign) (importer.Stats, error)

// Runner fires recurring campaigns on their schedules.
type Runner struct {
	// Store holds the definitions and tick claims.
	Store *Store
	// Import runs one tick's import.
	Import ImportFunc
	// Owner identifies this scheduler in tick claims (host:pid, say).
	Owner string
	// Poll is how often definitions and due ticks are checked. Default 1 s.
	Poll time.Duration
	// Logger receives progress. Default: disabled.
	Logger *zerolog.Logger
}

// Run fires due ticks until ctx ends. A tick missed while no scheduler ran is
// not replayed: the next one re-reads the whole list anyway.
func (r *Runner) Run(ctx context.Context) error {
	poll := r.Poll
	if poll <= 0 {
		poll = time.Second
	}
	log := r.Logger
	if log == nil {
		nop := zerolog.Nop()
		log = &nop
	}
	next := map[string]time.Time{}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		now := time.Now().UTC()
		campaigns, err := r.Store.List(ctx)
		if err != nil {
			log.Warn().Err(err).Msg("reading recurring campaigns")
		}
		seen := map[string]bool{}
		for _, c := range campaigns {
			seen[c.Name] = true
			sched, err := c.Schedule()
			if err != nil {
				continue
			}
			due, ok := next[c.Name]
			if !ok {
				next[c.Name] = sched.Next(now)
				continue
			}
			if now.Before(due) {
				continue
			}
			next[c.Name] = sched.Next(now)
			if _, err := r.Fire(ctx, c, due); err != nil {
				log.Warn().Err(err).Str("campaign", c.Name).Msg("recurring campaign tick failed")
			}
		}
		for name := range next {
			if !seen[name] {
				delete(next, name)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Fire runs the campaign's tick at time tick unless another scheduler has
// already claimed it; fired reports whether this one ran it. What the tick
// did is recorded (see Store.LastTicks), failures included.
func (r *Runner) Fire(ctx context.Context, c Campaign, tick time.Time) (fired bool, err error) {
	ok, err := r.Store.claim(ctx, c.Name, tick, r.Owner)
	if err != nil || !ok {
		return false, err
	}
	st, err := r.Import(ctx, c)
	t := Tick{At: tick.UTC(), Finished: time.Now().UTC(), Stats: st}
	if st.Rejected > 0 {
		t.Rejects = c.Rejects
	}
	if err != nil {
		t.Error = err.Error()
	}
	if rerr := r.Store.recordTick(context.WithoutCancel(ctx), c.Name, t); err == nil {
		err = rerr
	}
	return true, err
}
