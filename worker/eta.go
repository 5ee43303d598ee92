package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outlook is how a campaign is getting on: the pace of its sender, when it
// should end, and what holds it. A campaign against Synapse's default
// rc_third_party_invite (5, then one per 400 s) runs for days: the operator
// needs its end, live.
type Outlook struct {
	// Sender is the campaign's sender profile ("" when unknown).
	Sender string `json:"sender"`
	// PacePerMinute is the sender's pace: as its gate knows it when the
	// homeserver rate-limits it, else the campaign's own recent pace; 0
	// when nothing is known yet.
	PacePerMinute float64 `json:"pace_per_minute"`
	// ETASeconds is the expected time until every invite of the campaign is
	// final, at that pace; nil while unknown or while a pause holds it.
	ETASeconds *float64 `json:"eta_seconds"`
	// Paused is the pause holding the campaign, nil when none.
	Paused *Pause `json:"paused"`
	// BackoffSeconds is how long the sender's back-off still closes its
	// gate (backoff.go); 0 when it does not back off.
	BackoffSeconds float64 `json:"backoff_seconds"`
	// SenderServed is false when no running worker serves the sender: its
	// invites wait for one.
	SenderServed bool `json:"sender_served"`
}

// Outlook reads a campaign's outlook, given its counters (as Counts read
// them: they carry the campaign's pace).
func (s *Store) Outlook(ctx context.Context, c CampaignCounts) (Outlook, error) {
	var o Outlook
	sender, err := s.campaignSender(ctx, c.Campaign)
	if err != nil {
		return o, err
	}
	o.Sender = sender
	if o.Paused, err = s.PauseOf(ctx, c.Campaign, sender); err != nil {
		return o, err
	}
	if sender != "" {
		if o.SenderServed, err = s.SenderServed(ctx, sender); err != nil {
			return o, err
		}
	}
	gap := c.paceGapMS
	g, err := s.rdb.HMGet(ctx, s.k.gate(sender), "interval", "limited_ever", "until", "backoff_until").Result()
	if err != nil {
		return o, fmt.Errorf("read the gate of sender %q: %w", sender, err)
	}
	interval, limited := floatOf(g[0]), strOf(g[1]) == "1"
	nowMS := float64(time.Now().UnixMilli())
	if limited && interval > 0 {
		gap = max(gap, interval)
	}
	if gap > 0 {
		o.PacePerMinute = 60000 / gap
	}
	o.BackoffSeconds = max(floatOf(g[3])-nowMS, 0) / 1000
	remaining := c.Pending()
	switch {
	case o.Paused != nil:
	case remaining == 0:
		zero := 0.0
		o.ETASeconds = &zero
	case gap > 0:
		// The gate's next free slot may lie ahead of now (a long advised
		// wait); the back-off closes it too.
		ahead := max(floatOf(g[2])-nowMS, floatOf(g[3])-nowMS, 0)
		eta := (float64(remaining)*gap + ahead) / 1000
		o.ETASeconds = &eta
	}
	return o, nil
}

// campaignSender is the sender of a campaign's invites (from its meta hash,
// else from its first invite: data written before campaign meta existed).
func (s *Store) campaignSender(ctx context.Context, campaign string) (string, error) {
	sender, err := s.rdb.HGet(ctx, s.k.meta(campaign), "sender").Result()
	if err == nil && sender != "" && sender != "*" {
		return sender, nil
	}
	keys, err := s.rdb.ZRange(ctx, s.k.invites(campaign), 0, 0).Result()
	if err != nil || len(keys) == 0 {
		return "", err
	}
	sender, err = s.rdb.HGet(ctx, s.k.invite(keys[0]), "sender").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return sender, err
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

func floatOf(v any) float64 {
	f, _ := strconv.ParseFloat(strOf(v), 64)
	return f
}

// SenderPace is the pace the sender's gate keeps because the homeserver
// rate-limited it (one request per the returned duration), 0 when it was
// never limited or is not paced now.
func (s *Store) SenderPace(ctx context.Context, sender string) (time.Duration, error) {
	g, err := s.rdb.HMGet(ctx, s.k.gate(sender), "interval", "limited_ever").Result()
	if err != nil {
		return 0, fmt.Errorf("read the gate of sender %q: %w", sender, err)
	}
	if strOf(g[1]) != "1" {
		return 0, nil
	}
	return time.Duration(floatOf(g[0])) * time.Millisecond, nil
}
