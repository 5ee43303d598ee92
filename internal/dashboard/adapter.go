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
// Producer (campaign metadata, pauses, pace and expected end, actions),
// plus the results stream for the timeline and the rate now.
//
// This file is the one place that knows what the worker package offers.
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
	info, _, err := s.store.Campaign(ctx, name)
	if err != nil {
		return Campaign{}, err
	}
	counts := info.Counts
	c := Campaign{Name: name, Counts: counts, RatePerMinute: rate, Room: info.RoomID, Sender: info.Sender, Created: info.CreatedAt}
	if c.Room == "" || c.Sender == "" {
		if err := s.metadata(ctx, &c); err != nil { // data written before campaign metadata existed
			return Campaign{}, err
		}
	}
	o, err := s.store.Outlook(ctx, counts)
	if err != nil {
		return Campaign{}, err
	}
	if p := o.Paused; p != nil {
		c.Pause = &Pause{Scope: string(p.Scope), Name: p.Name, Reason: p.Reason, Since: p.Since}
	}
	if o.PacePerMinute > 0 {
		pace := o.PacePerMinute
		c.PacePerMinute = &pace
	}
	c.ETASeconds = o.ETASeconds
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

// Resume ends a pause of a sender or a campaign and wakes its invites.
func (s *StoreSource) Resume(ctx context.Context, scope, name string) error {
	sc, err := worker.ParsePauseScope(scope)
	if err != nil {
		return err
	}
	_, err = s.producer.Resume(ctx, sc, name)
	return err
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
