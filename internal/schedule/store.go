package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/importer"
)

// Store keeps recurring campaigns in Redis:
//
//	{prefix}:schedules                  hash   campaign name -> definition (JSON)
//	{prefix}:schedule-ticks             hash   campaign name -> its last tick (JSON Tick)
//	{prefix}:schedule:{name}:tick:{t}   string the scheduler that fired tick t (unix seconds); expires after a day
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewStore returns a Store under prefix ("" = "mxinvite").
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "mxinvite"
	}
	return &Store{rdb: rdb, prefix: prefix}
}

func (s *Store) key() string      { return s.prefix + ":schedules" }
func (s *Store) ticksKey() string { return s.prefix + ":schedule-ticks" }

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
	if err := s.rdb.HSet(ctx, s.ticksKey(), name, b).Err(); err != nil {
		return fmt.Errorf("record the tick of %q: %w", name, err)
	}
	return nil
}

// LastTicks returns each campaign's last tick, by name; campaigns that
// never ticked are missing.
func (s *Store) LastTicks(ctx context.Context) (map[string]Tick, error) {
	h, err := s.rdb.HGetAll(ctx, s.ticksKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read the last ticks: %w", err)
	}
	out := make(map[string]Tick, len(h))
	for name, v := range h {
		var t Tick
		if err := json.Unmarshal([]byte(v), &t); err != nil {
			return nil, fmt.Errorf("recurring campaign %q: last tick unreadable: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

func (s *Store) tickKey(name string, tick time.Time) string {
	return s.prefix + ":schedule:" + name + ":tick:" + strconv.FormatInt(tick.Unix(), 10)
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
	if err := s.rdb.HSet(ctx, s.key(), c.Name, v).Err(); err != nil {
		return fmt.Errorf("store recurring campaign %q: %w", c.Name, err)
	}
	return nil
}

// Remove deletes a definition; removed is false when there was none.
func (s *Store) Remove(ctx context.Context, name string) (removed bool, err error) {
	n, err := s.rdb.HDel(ctx, s.key(), name).Result()
	if err == nil {
		err = s.rdb.HDel(ctx, s.ticksKey(), name).Err()
	}
	if err != nil {
		return false, fmt.Errorf("remove recurring campaign %q: %w", name, err)
	}
	return n == 1, nil
}

// List returns every definition, by name.
func (s *Store) List(ctx context.Context) ([]Campaign, error) {
	h, err := s.rdb.HGetAll(ctx, s.key()).Result()
	if err != nil {
		return nil, fmt.Errorf("list recurring campaigns: %w", err)
	}
	out := make([]Campaign, 0, len(h))
	for name, v := range h {
		var c Campaign
		if err := json.Unmarshal([]byte(v), &c); err != nil {
			return nil, fmt.Errorf("recurring campaign %q: stored definition unreadable: %w", name, err)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// claim takes tick t of a campaign for one scheduler: SET NX, so when several
// schedulers run only the first to ask fires it (asynq's scheduler has no
// leader election).
func (s *Store) claim(ctx context.Context, name string, tick time.Time, owner string) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.tickKey(name, tick), owner, 24*time.Hour).Result()
	if err != nil {
		return false, fmt.Errorf("claim tick of %q: %w", name, err)
	}
	return ok, nil
}
