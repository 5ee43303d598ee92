package dashboard

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/worker"
)

// StoreSource is the Source over Redis: the worker package's Store and
// Producer, plus the results stream for the timeline and the rate now.
//
// This file is the one place that knows what the worker package offers.
// Not there yet, and filled in here when it is: pauses (Pause is nil,
// Resume answers ErrNotSupported), the sender's pace (nil) and campaign
// metadata (room, sender and created are read from the campaign's first
// invite record). The ETA is estimated from the rate now.
type StoreSource struct {
	rdb      redis.UniversalClient
	prefix   string
	store    *worker.Store
	producer *worker.Producer
	history  *history
}

// NewStoreSource reads under the key prefix ("" = "mxinvite") and acts on
// queue ("" = the default queue). It does not own rdb.
func NewStoreSource(rdb redis.UniversalClient, prefix, queue string) *StoreSource {
	if prefix == "" {
		prefix = "mxinvite"
	}
	return &StoreSource{
		rdb: rdb, prefix: prefix,
		store:    worker.NewStore(rdb, prefix, 0),
		producer: worker.NewProducer(rdb, prefix, queue),
		history:  newHistory(rdb, prefix, historyOptions{}),
	}
}

// Campaigns lists every campaign with its counts and rate.
func (s *StoreSource) Campaigns(ctx context.Context) ([]Campaign, error) {
	names, err := s.store.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	rates, err := s.history.rates(ctx, names)
	if err != nil {
		return nil, err
	}
	out := make([]Campaign, 0, len(names))
	for _, name := range names {
		c, err := s.campaign(ctx, name, rates[name])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Campaign reads one campaign.
func (s *StoreSource) Campaign(ctx context.Context, name string) (Campaign, error) {
	rates, err := s.history.rates(ctx, []string{name})
	if err != nil {
		return Campaign{}, err
	}
	c, err := s.campaign(ctx, name, rates[name])
	if err != nil {
		return Campaign{}, err
	}
	if c.Counts.Enqueued == 0 && len(c.Counts.States) == 0 && len(c.Counts.Statuses) == 0 {
		return Campaign{}, fmt.Errorf("campaign %q: %w", name, ErrUnknownCampaign)
	}
	return c, nil
}

func (s *StoreSource) campaign(ctx context.Context, name string, rate float64) (Campaign, error) {
	counts, err := s.store.Counts(ctx, name)
	if err != nil {
		return Campaign{}, err
	}
	c := Campaign{Name: name, Counts: counts, RatePerMinute: rate}
	if err := s.metadata(ctx, &c); err != nil {
		return Campaign{}, err
	}
	if pending := counts.Pending(); pending > 0 && rate > 0 && c.Pause == nil {
		eta := float64(pending) / rate * 60
		c.ETASeconds = &eta
	}
	return c, nil
}

// metadata fills room, sender and created from the campaign's first
// invite (the index is scored by enqueue time; see worker/keys.go).
func (s *StoreSource) metadata(ctx context.Context, c *Campaign) error {
	first, err := s.rdb.ZRangeWithScores(ctx, s.prefix+":campaign:"+c.Name+":invites", 0, 0).Result()
	if err != nil {
		return fmt.Errorf("read the first invite of campaign %q: %w", c.Name, err)
	}
	if len(first) == 0 {
		return nil
	}
	c.Created = time.UnixMilli(int64(first[0].Score)).UTC()
	key, _ := first[0].Member.(string)
	r, ok, err := s.store.Get(ctx, key)
	if err != nil || !ok {
		return err
	}
	c.Room, c.Sender = r.RoomID, r.Sender
	return nil
}

// Timeline reads the campaign's history from the results stream.
func (s *StoreSource) Timeline(ctx context.Context, name string) (Timeline, error) {
	counts, err := s.store.Counts(ctx, name)
	if err != nil {
		return Timeline{}, err
	}
	return s.history.timeline(ctx, name, counts.Pending() > 0)
}

// Failures walks the campaign's records (memory holds one page, time grows
// with the campaign) and keeps the requested page of failures.
func (s *StoreSource) Failures(ctx context.Context, name string, q FailureQuery) (FailurePage, error) {
	if q.PageSize <= 0 {
		q.PageSize = 50
	}
	from := q.Page * q.PageSize
	var page FailurePage
	err := s.Results(ctx, name, true, func(r worker.Result) error {
		if q.Status != "" && r.Status != q.Status {
			return nil
		}
		if page.Total >= from && len(page.Results) < q.PageSize {
			page.Results = append(page.Results, r)
		}
		page.Total++
		return nil
	})
	return page, err
}

// Results walks the campaign's records.
func (s *StoreSource) Results(ctx context.Context, name string, failedOnly bool, fn func(worker.Result) error) error {
	return s.store.Results(ctx, name, func(r worker.Result) error {
		if failedOnly && (!r.Final() || r.StatusCode == matrix.Success) {
			return nil
		}
		return fn(r)
	})
}

// Resume is not there yet: the worker package has no pauses.
func (s *StoreSource) Resume(context.Context, string, string) error {
	return fmt.Errorf("resume: %w", ErrNotSupported)
}

// Cancel removes the campaign's invites not sent yet.
func (s *StoreSource) Cancel(ctx context.Context, name string) (worker.CancelStats, error) {
	return s.producer.Cancel(ctx, name)
}

// Retry re-enqueues the campaign's invites that ended with code.
func (s *StoreSource) Retry(ctx context.Context, name string, code matrix.StatusCode) (worker.RetryStats, error) {
	if code == matrix.Success {
		return worker.RetryStats{}, errors.New("delivered invites are not sent again")
	}
	return s.producer.Retry(ctx, name, code)
}
