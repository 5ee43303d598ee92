package rdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Outlook reads a campaign's outlook (record.OutlookOf), given its
// counters as Counts read them (they carry the campaign's pace).
func (c *Client) Outlook(ctx context.Context, counts record.CampaignCounts) (record.Outlook, error) {
	sender, err := c.CampaignSender(ctx, counts.Campaign)
	if err != nil {
		return record.Outlook{Sender: sender}, err
	}
	paused, err := c.PauseOf(ctx, counts.Campaign, sender)
	if err != nil {
		return record.Outlook{Sender: sender}, err
	}
	served := false
	if sender != "" {
		if served, err = c.SenderServed(ctx, sender); err != nil {
			return record.Outlook{Sender: sender, Paused: paused}, err
		}
	}
	g, err := c.Gate(ctx, sender)
	if err != nil {
		return record.Outlook{Sender: sender, Paused: paused, SenderServed: served}, err
	}
	o := record.OutlookOf(counts, sender, g, paused, served, time.Now())
	if o.HeldElsewhere, err = c.heldElsewhere(ctx, counts.Campaign); err != nil {
		return o, err
	}
	return o, nil
}

// heldElsewhere reads the campaign meta's "held_by:{campaign}" counts
// (registerScript).
func (c *Client) heldElsewhere(ctx context.Context, campaign string) (map[string]int, error) {
	meta, err := c.rdb.HGetAll(ctx, c.k.meta(campaign)).Result()
	if err != nil {
		return nil, fmt.Errorf("read the meta of campaign %q: %w", campaign, err)
	}
	var out map[string]int
	for f, v := range meta {
		if holder, ok := strings.CutPrefix(f, "held_by:"); ok {
			if n, _ := strconv.Atoi(v); n > 0 {
				if out == nil {
					out = map[string]int{}
				}
				out[holder] = n
			}
		}
	}
	return out, nil
}

// Gate reads what a sender's rate-limit gate says.
func (c *Client) Gate(ctx context.Context, sender string) (record.GateView, error) {
	g, err := c.rdb.HMGet(ctx, c.k.gate(sender), "interval", "limited_ever", "until", "backoff_until").Result()
	if err != nil {
		return record.GateView{}, fmt.Errorf("read the gate of sender %q: %w", sender, err)
	}
	ms := func(v any) int64 {
		s, _ := v.(string)
		f, _ := strconv.ParseFloat(s, 64)
		return int64(f)
	}
	at := func(v any) time.Time {
		if n := ms(v); n > 0 {
			return time.UnixMilli(n)
		}
		return time.Time{}
	}
	limited, _ := g[1].(string)
	return record.GateView{
		Interval: time.Duration(ms(g[0])) * time.Millisecond, Limited: limited == "1",
		Until: at(g[2]), BackoffUntil: at(g[3]),
	}, nil
}

// SenderPace is the pace the sender's gate keeps because the homeserver
// rate-limited it (one request per the returned duration), 0 when it was
// never limited or is not paced now.
func (c *Client) SenderPace(ctx context.Context, sender string) (time.Duration, error) {
	g, err := c.Gate(ctx, sender)
	return g.Pace(), err
}
