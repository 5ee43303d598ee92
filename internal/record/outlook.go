package record

import "time"

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
	// final, with everything ahead of it on its sender (record.PlanSender);
	// nil while unknown, while a pause holds it or no worker serves it.
	ETASeconds *float64 `json:"eta_seconds"`
	// Paused is the pause holding the campaign, nil when none.
	Paused *Pause `json:"paused"`
	// BackoffSeconds is how long the sender's back-off still closes its
	// gate; 0 when it does not back off.
	BackoffSeconds float64 `json:"backoff_seconds"`
	// SenderServed is false when no running worker serves the sender: its
	// invites wait for one.
	SenderServed bool `json:"sender_served"`
	// Waiting says in words what the campaign waits for ("behind 432
	// invites of campaign winter on sender default", "scheduled from 14:00
	// UTC", "paused: …", "unknown: no pace known yet"); "" when nothing
	// holds it back (record.PlanSender).
	Waiting string `json:"waiting"`
	// Lane is the lane of its sender the campaign's invites go to (high,
	// n0…, low; "" for a campaign of an earlier release, in the base
	// queue) and Priority its priority (high, normal, low).
	Lane     string `json:"lane,omitempty"`
	Priority string `json:"priority,omitempty"`
	// HeldElsewhere counts, by campaign, the addresses registered for this
	// campaign that were already invited (queued or done) under that one:
	// they go out, or went out, there. Empty when none.
	HeldElsewhere map[string]int `json:"held_elsewhere,omitempty"`
}

// GateView is what a sender's rate-limit gate says, for outlooks.
type GateView struct {
	// Interval is the pace the gate keeps between two requests; Limited is
	// set once the homeserver has rate-limited the sender.
	Interval time.Duration
	Limited  bool
	// Until is the gate's next free slot; BackoffUntil when its back-off
	// opens it again (zero when none).
	Until, BackoffUntil time.Time
	// GuessedAt is when the gate last took a 429 for the sender's without
	// proof yet (zero when never): until Limited, the pace the sender's
	// invites went at so far was the server's burst, not its pace.
	GuessedAt time.Time
}

// Pace is the gate's pace when it is rate-limited, else 0.
func (g GateView) Pace() time.Duration {
	if !g.Limited {
		return 0
	}
	return g.Interval
}

// OutlookOf computes a campaign's outlook at now from its counts (with the
// campaign's own pace), its sender's gate and what holds it.
func OutlookOf(c CampaignCounts, sender string, g GateView, paused *Pause, served bool, now time.Time) Outlook {
	o := Outlook{Sender: sender, Paused: paused, SenderServed: served}
	gap := c.PaceGapMS
	if g.Limited && g.Interval > 0 {
		gap = max(gap, float64(g.Interval.Milliseconds()))
	}
	if gap > 0 {
		o.PacePerMinute = 60000 / gap
	}
	ahead := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return max(float64(t.Sub(now).Milliseconds()), 0)
	}
	o.BackoffSeconds = ahead(g.BackoffUntil) / 1000
	remaining := c.Pending()
	switch {
	case paused != nil:
	case remaining == 0:
		zero := 0.0
		o.ETASeconds = &zero
	case gap > 0:
		// The gate's next free slot may lie ahead of now (a long advised
		// wait); the back-off closes it too.
		eta := (float64(remaining)*gap + max(ahead(g.Until), ahead(g.BackoffUntil))) / 1000
		o.ETASeconds = &eta
	}
	return o
}
