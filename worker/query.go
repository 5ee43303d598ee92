package worker

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// CampaignCounts are a campaign's counters (see keys.go). Every invite of
// the campaign is in exactly one state, so
//
//	Enqueued = queued + scheduled + active + retrying + paused + done + cancelled
//
// (Pending() is the first five). Statuses add up to done.
type CampaignCounts struct {
	Campaign string `json:"campaign"`
	// Enqueued is the number of invites of the campaign: a re-invite
	// (--again, retry, a cancelled invite enqueued again) replaces its
	// earlier generation and is still one invite.
	Enqueued int `json:"enqueued"`
	// States counts the campaign's invites by state (queued, scheduled,
	// active, retrying, paused, done, cancelled); states with no invite are
	// left out.
	States map[string]int `json:"states"`
	// Statuses counts final results by status name.
	Statuses map[string]int `json:"statuses"`
	// Requests counts invite requests sent; RateLimited the 429s among them.
	Requests    int `json:"requests"`
	RateLimited int `json:"rate_limited"`
	// PossibleDuplicates counts invites that succeeded after an attempt with
	// an unknown outcome: their invitees may have two emails.
	PossibleDuplicates int `json:"possible_duplicates"`
	// paceGapMS is the campaign's moving average time between two finished
	// invites (luaPace), for its Outlook.
	paceGapMS float64
}

// Pending is the number of invites that may still be sent: neither done
// nor cancelled.
func (c CampaignCounts) Pending() int {
	n := 0
	for state, v := range c.States {
		if state != StateDone && state != StateCancelled {
			n += v
		}
	}
	return n
}

// InStates is the sum of the state counters: equal to Enqueued unless the
// counters are broken.
func (c CampaignCounts) InStates() int {
	n := 0
	for _, v := range c.States {
		n += v
	}
	return n
}

// Counts reads a campaign's counters and the size of its index, in one
// MULTI/EXEC so that they describe the same moment.
func (s *Store) Counts(ctx context.Context, campaign string) (CampaignCounts, error) {
	var hash *redis.MapStringStringCmd
	var size *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		hash = p.HGetAll(ctx, s.k.counts(campaign))
		size = p.ZCard(ctx, s.k.invites(campaign))
		return nil
	})
	if err != nil {
		return CampaignCounts{}, fmt.Errorf("read counters of campaign %q: %w", campaign, err)
	}
	return countsFromHash(campaign, hash.Val(), size.Val()), nil
}

// countsFromHash decodes a counters hash; enqueued is the index's size.
func countsFromHash(campaign string, h map[string]string, enqueued int64) CampaignCounts {
	c := CampaignCounts{Campaign: campaign, Enqueued: int(enqueued), States: map[string]int{}, Statuses: map[string]int{}}
	for f, v := range h {
		n, _ := strconv.Atoi(v)
		switch {
		case strings.HasPrefix(f, "state:"):
			if n != 0 {
				c.States[strings.TrimPrefix(f, "state:")] = n
			}
		case strings.HasPrefix(f, "status:"):
			if n != 0 {
				c.Statuses[strings.TrimPrefix(f, "status:")] = n
			}
		case f == "requests":
			c.Requests = n
		case f == "rate_limited":
			c.RateLimited = n
		case f == "pace_gap_ms":
			c.paceGapMS, _ = strconv.ParseFloat(v, 64)
		case f == "possible_duplicates":
			c.PossibleDuplicates = n
		}
	}
	return c
}

// Campaigns lists the campaign names, sorted.
func (s *Store) Campaigns(ctx context.Context) ([]string, error) {
	names, err := s.rdb.SMembers(ctx, s.k.campaigns()).Result()
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// resultsPage is how many records Results reads per round trip.
const resultsPage = 500

// Results calls fn for every invite record of the campaign, in enqueue
// order, reading them a page at a time (memory does not grow with the
// campaign). fn returning an error stops the walk with that error.
func (s *Store) Results(ctx context.Context, campaign string, fn func(Result) error) error {
	for start := int64(0); ; start += resultsPage {
		keys, err := s.rdb.ZRange(ctx, s.k.invites(campaign), start, start+resultsPage-1).Result()
		if err != nil {
			return fmt.Errorf("list invites of campaign %q: %w", campaign, err)
		}
		if len(keys) == 0 {
			return nil
		}
		cmds := make([]*redis.MapStringStringCmd, len(keys))
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.HGetAll(ctx, s.k.invite(k))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read invites of campaign %q: %w", campaign, err)
		}
		for i, cmd := range cmds {
			if h := cmd.Val(); len(h) > 0 {
				if err := fn(resultFromHash(keys[i], h)); err != nil {
					return err
				}
			}
		}
		if len(keys) < resultsPage {
			return nil
		}
	}
}
