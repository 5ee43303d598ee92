package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/rdb"
)

// Store keeps recurring campaigns in Redis, through internal/rdb (which
// names the keys: {prefix}:schedules, {prefix}:schedule-ticks and the tick
// claims): definitions and last ticks as JSON.
type Store struct {
	rdb *rdb.Client
}

// NewStore returns a Store over store.
func NewStore(store *rdb.Client) *Store { return &Store{rdb: store} }

// Tick is what a campaign's last tick did, for schedule list.
type Tick struct {
	// At is the tick's time on the schedule; Finished when its import ended.
	At       time.Time `json:"at"`
	Finished time.Time `json:"finished"`
	// Stats are the import's counts.
	Stats importer.Stats `json:"stats"`
	// Rejects is the file holding the rows this tick rejected, if any.
	Rejects string `json:"rejects,omitempty"`
	// Error says why the tick failed; empty when it did not.
	Error string `json:"error,omitempty"`
}

// recordTick keeps t as the campaign's last tick.
func (s *Store) recordTick(ctx context.Context, name string, t Tick) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return s.rdb.SetScheduleTick(ctx, name, b)
}

// LastTicks returns each campaign's last tick, by name; campaigns that
// never ticked are missing.
func (s *Store) LastTicks(ctx context.Context) (map[string]Tick, error) {
	h, err := s.rdb.ScheduleTicks(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Tick, len(h))
	for name, v := range h {
		var t Tick
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, fmt.Errorf("recurring campaign %q: last tick unreadable: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// Add stores (or replaces) a campaign definition.
func (s *Store) Add(ctx context.Context, c Campaign) error {
	if err := c.Validate(); err != nil {
		return err
	}
	v, err := c.marshal()
	if err != nil {
		return err
	}
	return s.rdb.SetSchedule(ctx, c.Name, []byte(v))
}

// Remove deletes a definition; removed is false when there was none.
func (s *Store) Remove(ctx context.Context, name string) (removed bool, err error) {
	return s.rdb.RemoveSchedule(ctx, name)
}

// List returns every definition, by name.
func (s *Store) List(ctx context.Context) ([]Campaign, error) {
	h, err := s.rdb.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Campaign, 0, len(h))
	for name, v := range h {
		var c Campaign
		if err := json.Unmarshal(v, &c); err != nil {
			return nil, fmt.Errorf("recurring campaign %q: stored definition unreadable: %w", name, err)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// claim takes tick t of a campaign for one scheduler, so that when several
// schedulers run only the first to ask fires it (asynq's scheduler has no
// leader election).
func (s *Store) claim(ctx context.Context, name string, tick time.Time, owner string) (bool, error) {
	return s.rdb.ClaimTick(ctx, name, tick, owner)
}
