package rdb

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Campaign counters ({prefix}:campaign:{name}:counts): "state:{state}"
// (current states of its invites), "status:{Name}" (final results by
// libQuotient status name), "requests" (invite requests sent),
// "rate_limited" (429 answers), "limited:{scope}" (those 429s by the scope
// the worker gave them), "delivery:{delivery}" (successes by how they
// went), "registered" and "joined" (the funnel: records with
// registered_at_ms, joined_at_ms; track.go), "possible_duplicates" (invites that
// succeeded after an ambiguous attempt), "pace_gap_ms" and "pace_at_ms"
// (finish.go), "breaker" (breaker.go), "indexed" (the invites in the
// list part of its index: index.go). Every invite of the campaign is in
// its index and in exactly one state, so the index's size (its sorted
// set's ZCARD plus "indexed", reported as "enqueued") is the sum of the
// state counters; a re-invite replaces its record and keeps it one invite. (Data written before session 2 also has
// an "enqueued" counter of registrations ever made; nothing reads it.)

// Counts reads a campaign's counters and the size of its index, in one
// MULTI/EXEC so that they describe the same moment.
func (c *Client) Counts(ctx context.Context, campaign string) (record.CampaignCounts, error) {
	var hash *redis.MapStringStringCmd
	var size *redis.IntCmd
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		hash = p.HGetAll(ctx, c.k.counts(campaign))
		size = p.ZCard(ctx, c.k.invites(campaign))
		return nil
	})
	if err != nil {
		return record.CampaignCounts{}, fmt.Errorf("read counters of campaign %q: %w", campaign, err)
	}
	counts := countsFromHash(campaign, hash.Val(), size.Val())
	if counts.States[record.StateActive] > 0 {
		rec, err := c.recovering(ctx)
		if err != nil {
			return record.CampaignCounts{}, err
		}
		showRecovering(&counts, rec[campaign])
	}
	return counts, nil
}

// showRecovering moves n of the counts' active invites to the display
// state "recovering" (their workers are dead: record.StateRecovering).
func showRecovering(c *record.CampaignCounts, n int) {
	n = min(n, c.States[record.StateActive])
	if n <= 0 {
		return
	}
	c.States[record.StateActive] -= n
	if c.States[record.StateActive] == 0 {
		delete(c.States, record.StateActive)
	}
	c.States[record.StateRecovering] = n
}

// countsFromHash decodes a counters hash; sorted is the size of the
// campaign's sorted set (ZCARD): "enqueued" adds the list's invites
// (index.go).
func countsFromHash(campaign string, h map[string]string, sorted int64) record.CampaignCounts {
	c := record.CampaignCounts{Campaign: campaign, Enqueued: int(sorted + listed(h[fieldIndexed])), States: map[record.State]int{}, Statuses: map[string]int{}}
	for f, v := range h {
		n, _ := strconv.Atoi(v)
		switch {
		case strings.HasPrefix(f, "state:"):
			if n != 0 {
				c.States[record.State(strings.TrimPrefix(f, "state:"))] = n
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
			c.PaceGapMS, _ = strconv.ParseFloat(v, 64)
		case f == "possible_duplicates":
			c.PossibleDuplicates = n
		case strings.HasPrefix(f, "delivery:"):
			if n != 0 {
				if c.Deliveries == nil {
					c.Deliveries = map[record.Delivery]int{}
				}
				d := record.Delivery(strings.TrimPrefix(f, "delivery:"))
				c.Deliveries[d] = n
				if d.Sent() {
					c.Funnel.Sent += n
				}
			}
		case f == "registered":
			c.Funnel.Registered = n
		case f == "joined":
			c.Funnel.Joined = n
		case strings.HasPrefix(f, "limited:"):
			if n != 0 {
				if c.RateLimitedBy == nil {
					c.RateLimitedBy = map[record.LimitScope]int{}
				}
				c.RateLimitedBy[record.LimitScope(strings.TrimPrefix(f, "limited:"))] = n
			}
		}
	}
	return c
}

// Campaigns lists the campaign names, sorted.
func (c *Client) Campaigns(ctx context.Context) ([]string, error) {
	names, err := c.rdb.SMembers(ctx, c.k.campaigns()).Result()
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// CampaignKnown reports whether a campaign of that name is registered.
func (c *Client) CampaignKnown(ctx context.Context, name string) (bool, error) {
	ok, err := c.rdb.SIsMember(ctx, c.k.campaigns(), name).Result()
	if err != nil {
		return false, fmt.Errorf("look campaign %q up: %w", name, err)
	}
	return ok, nil
}
