package rdb

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

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
	now := time.Now()
	o := record.OutlookOf(counts, sender, g, paused, served, now)
	lane, p, err := c.CampaignLane(ctx, counts.Campaign)
	if err != nil {
		return o, err
	}
	o.Lane, o.Priority = lane, string(p)
	if counts.Pending() > 0 { // a finished campaign needs no plan (campaign lists read many)
		plan, err := c.planCampaign(ctx, counts, sender, g, served, now)
		if err != nil {
			return o, err
		}
		o.ETASeconds, o.Waiting = plan.ETASeconds, plan.Waiting
	}
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
	g, err := c.rdb.HMGet(ctx, c.k.gate(sender), "interval", "limited_ever", "until", "backoff_until", "lim_set_at").Result()
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
		Until: at(g[2]), BackoffUntil: at(g[3]), GuessedAt: at(g[4]),
	}, nil
}

// SenderPace is the pace the sender's gate keeps because the homeserver
// rate-limited it (one request per the returned duration), 0 when it was
// never limited or is not paced now.
func (c *Client) SenderPace(ctx context.Context, sender string) (time.Duration, error) {
	g, err := c.Gate(ctx, sender)
	return g.Pace(), err
}

// learnPace is how long after a 429 the gate has not confirmed as the
// sender's the campaigns' pace is not taken for the sender's.
const learnPace = time.Minute

// planCampaign plans the campaign among the other campaigns of its sender
// (record.PlanSender): it reads every campaign's meta (sender, lane,
// created_at_ms) in one round trip, then the counters and pauses of the
// sender's campaigns and the sender's pause in another.
func (c *Client) planCampaign(ctx context.Context, counts record.CampaignCounts, sender string, g record.GateView, served bool,
	now time.Time) (record.Plan, error) {
	names, err := c.rdb.SMembers(ctx, c.k.campaigns()).Result()
	if err != nil {
		return record.Plan{}, fmt.Errorf("list campaigns: %w", err)
	}
	pipe := c.rdb.Pipeline()
	metas := make([]*redis.SliceCmd, len(names))
	for i, name := range names {
		metas[i] = pipe.HMGet(ctx, c.k.meta(name), "sender", "lane_sender", "lane", "created_at_ms")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return record.Plan{}, fmt.Errorf("read the campaigns' meta: %w", err)
	}
	type member struct {
		name, lane string
		order      int64
		hash       *redis.MapStringStringCmd
		pause      *redis.MapStringStringCmd
	}
	var ms []member
	self := -1
	for i, name := range names {
		v := metas[i].Val()
		str := func(k int) string { s, _ := v[k].(string); return s }
		own := str(1)
		if own == "" {
			own = str(0)
		}
		if name != counts.Campaign && own != sender {
			continue
		}
		if name == counts.Campaign {
			self = len(ms)
		}
		order, _ := strconv.ParseInt(str(3), 10, 64)
		ms = append(ms, member{name: name, lane: str(2), order: order})
	}
	if self < 0 {
		ms = append(ms, member{name: counts.Campaign})
		self = len(ms) - 1
	}
	pipe = c.rdb.Pipeline()
	for i := range ms {
		ms[i].hash = pipe.HGetAll(ctx, c.k.counts(ms[i].name))
		ms[i].pause = pipe.HGetAll(ctx, c.k.pause(string(record.PauseCampaign), ms[i].name))
	}
	senderPause := pipe.HGetAll(ctx, c.k.pause(string(record.PauseSender), sender))
	if _, err := pipe.Exec(ctx); err != nil {
		return record.Plan{}, fmt.Errorf("read the counters of sender %q's campaigns: %w", sender, err)
	}
	st := record.SenderState{Name: sender, Served: served, BackoffUntil: g.BackoffUntil}
	if g.Until.After(now) {
		st.OpenAt = g.Until
	}
	if h := senderPause.Val(); sender != "" && len(h) > 0 {
		st.Paused = pauseFromHash(record.PauseSender, sender, h)
	}
	var cs []record.PlanCampaign
	var rate float64 // invites per ms the sender's campaigns finished lately
	at := -1
	for i, m := range ms {
		h := m.hash.Val()
		num := func(f string) float64 { v, _ := strconv.ParseFloat(h[f], 64); return v }
		pc := record.PlanCampaign{Name: m.name, Lane: m.lane, Order: m.order}
		for f, v := range h {
			if state, ok := strings.CutPrefix(f, "state:"); ok && record.State(state).Pending() {
				n, _ := strconv.Atoi(v)
				if record.State(state) == record.StateScheduled {
					pc.Scheduled += n
				} else {
					pc.Due += n
				}
			}
		}
		if i == self { // the counts the caller read, so status agrees with itself
			pc.Due, pc.Scheduled = counts.Pending()-counts.States[record.StateScheduled], counts.States[record.StateScheduled]
		}
		if pc.Scheduled > 0 {
			if from, until := num("sched_from_ms"), num("sched_until_ms"); from > 0 {
				pc.SchedFrom, pc.SchedUntil = time.UnixMilli(int64(from)), time.UnixMilli(int64(until))
			}
		}
		if gap, last := num("pace_gap_ms"), num("pace_at_ms"); gap > 0 && float64(now.UnixMilli())-last < max(60000, 4*gap) {
			rate += 1 / gap
		}
		if h := m.pause.Val(); pc.Due+pc.Scheduled > 0 && len(h) > 0 {
			pc.Paused = pauseFromHash(record.PauseCampaign, m.name, h)
		}
		if i == self {
			at = len(cs)
		}
		cs = append(cs, pc)
	}
	if rate > 0 {
		st.Interval = time.Duration(float64(time.Millisecond) / rate)
	}
	if g.Limited && g.Interval > st.Interval {
		st.Interval = g.Interval
	}
	if !g.Limited && !g.GuessedAt.IsZero() && now.Sub(g.GuessedAt) < learnPace {
		// The server limits the sender and the gate is still telling its
		// pace: the pace so far was its burst.
		st.Interval, st.Learning = 0, true
	}
	return record.PlanSender(st, cs, now)[at], nil
}
