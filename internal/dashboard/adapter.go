package dashboard

import (
	"context"
	"errors"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

// StoreSource is the Source over Redis: internal/rdb's reads (campaign
// metadata, pauses, pace and expected end, the results stream for the
// timeline and the rate now) and internal/producer's actions.
//
// This file is the one place that knows what those packages offer.
type StoreSource struct {
	store    *rdb.Client
	producer *producer.Producer
	history  *history
}

// NewStoreSource reads through store and acts on queue ("" = the default
// queue). It does not own store.
func NewStoreSource(store *rdb.Client, queue string) *StoreSource {
	return &StoreSource{
		store:    store,
		producer: producer.New(store, queue),
		history:  newHistory(store, historyOptions{}),
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
	c.ETASeconds, c.Waiting, c.Lane, c.Priority = o.ETASeconds, o.Waiting, o.Lane, o.Priority
	c.Unserved = o.Sender != "" && !o.SenderServed && counts.Pending() > 0
	return c, nil
}

// metadata fills room, sender and created from the campaign's first
// invite (campaigns registered before campaign meta existed).
func (s *StoreSource) metadata(ctx context.Context, c *Campaign) error {
	r, at, ok, err := s.store.FirstInvite(ctx, c.Name)
	if err != nil || !ok {
		return err
	}
	c.Created = at
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

// Results walks the campaign's records.
func (s *StoreSource) Results(ctx context.Context, name string, failedOnly bool, fn func(record.Result) error) error {
	return s.store.Results(ctx, name, func(r record.Result) error {
		if failedOnly && (!r.Final() || r.StatusCode == matrix.Success) {
			return nil
		}
		return fn(r)
	})
}

// Resume ends a pause of a sender or a campaign and wakes its invites.
func (s *StoreSource) Resume(ctx context.Context, scope, name string) error {
	sc, err := record.ParsePauseScope(scope)
	if err != nil {
		return err
	}
	_, err = s.producer.Resume(ctx, sc, name)
	return err
}

// Cancel removes the campaign's invites not sent yet.
func (s *StoreSource) Cancel(ctx context.Context, name string) (record.CancelStats, error) {
	return s.producer.Cancel(ctx, name)
}

// Retry re-enqueues the campaign's invites that ended with code.
func (s *StoreSource) Retry(ctx context.Context, name string, code matrix.StatusCode) (record.RetryStats, error) {
	if code == matrix.Success {
		return record.RetryStats{}, errors.New("delivered invites are not sent again")
	}
	return s.producer.Retry(ctx, name, code)
}

// FindInvites finds invites by address or task ID (rdb.FindInvites).
func (s *StoreSource) FindInvites(ctx context.Context, query string) ([]record.Detail, error) {
	out, err := s.store.FindInvites(ctx, query)
	if errors.Is(err, rdb.ErrBadQuery) {
		return nil, fmt.Errorf("%q: %w", query, ErrBadQuery)
	}
	return out, err
}

// Invite reads one invite's record.
func (s *StoreSource) Invite(ctx context.Context, key string) (record.Detail, error) {
	d, ok, err := s.store.Detail(ctx, key)
	if err == nil && !ok {
		err = fmt.Errorf("invite %s: %w", key, ErrUnknownInvite)
	}
	return d, err
}

// CancelInvite cancels one invite and removes its task (producer.CancelInvite).
func (s *StoreSource) CancelInvite(ctx context.Context, key string) (record.CancelOneStats, error) {
	st, err := s.producer.CancelInvite(ctx, key)
	if errors.Is(err, rdb.ErrNoInvite) {
		err = fmt.Errorf("invite %s: %w", key, ErrUnknownInvite)
	}
	return st, err
}

// RetryInvite re-enqueues one finished invite (producer.RetryInvite).
func (s *StoreSource) RetryInvite(ctx context.Context, key string) (record.Verdict, error) {
	v, err := s.producer.RetryInvite(ctx, key)
	switch {
	case errors.Is(err, rdb.ErrNoInvite):
		err = fmt.Errorf("invite %s: %w", key, ErrUnknownInvite)
	case errors.Is(err, producer.ErrNotRetriable):
		err = fmt.Errorf("%w: %v", ErrNotRetriable, err)
	}
	return v, err
}
