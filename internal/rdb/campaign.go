package rdb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
)

// Campaign meta ({prefix}:campaign:{name}:meta): room_id, sender,
// id_server and medium of its invites ("*" once two registrations
// disagree), created_at_ms of its first registration (Unix ms), written by
// registerScript.

// Campaign reads one campaign; ok is false when no campaign of that name was
// ever registered (it is neither in the campaign set nor has a meta hash).
func (c *Client) Campaign(ctx context.Context, name string) (record.CampaignInfo, bool, error) {
	infos, err := c.campaignInfos(ctx, []string{name})
	if err != nil {
		return record.CampaignInfo{}, false, err
	}
	return infos[0].CampaignInfo, infos[0].known, nil
}

// ListCampaigns reads every campaign, sorted by name.
func (c *Client) ListCampaigns(ctx context.Context) ([]record.CampaignInfo, error) {
	names, err := c.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]record.CampaignInfo, 0, len(names))
	for len(names) > 0 {
		n := min(len(names), campaignPage)
		infos, err := c.campaignInfos(ctx, names[:n])
		if err != nil {
			return nil, err
		}
		for _, info := range infos {
			out = append(out, info.CampaignInfo)
		}
		names = names[n:]
	}
	return out, nil
}

// campaignPage is how many campaigns ListCampaigns reads per round trip.
const campaignPage = 200

type campaignRead struct {
	record.CampaignInfo
	known bool
}

// campaignInfos reads the campaigns in one MULTI/EXEC: each one's set
// membership, meta, counters and index size describe the same moment.
func (c *Client) campaignInfos(ctx context.Context, names []string) ([]campaignRead, error) {
	type cmds struct {
		member       *redis.BoolCmd
		meta, counts *redis.MapStringStringCmd
		size         *redis.IntCmd
	}
	all := make([]cmds, len(names))
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			all[i] = cmds{
				member: p.SIsMember(ctx, c.k.campaigns(), name),
				meta:   p.HGetAll(ctx, c.k.meta(name)),
				counts: p.HGetAll(ctx, c.k.counts(name)),
				size:   p.ZCard(ctx, c.k.invites(name)),
			}
		}
		return nil
	})
	if err != nil {
		if len(names) == 1 {
			return nil, fmt.Errorf("read campaign %q: %w", names[0], err)
		}
		return nil, fmt.Errorf("read %d campaigns: %w", len(names), err)
	}
	rec, err := c.recovering(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]campaignRead, len(names))
	for i, name := range names {
		meta := all[i].meta.Val()
		counts := countsFromHash(name, all[i].counts.Val(), all[i].size.Val())
		showRecovering(&counts, rec[name])
		info := record.CampaignInfo{
			Name: name, RoomID: meta["room_id"], Sender: meta["sender"], IDServer: meta["id_server"],
			Medium: meta["medium"], State: record.CampaignStateOf(counts), Counts: counts,
		}
		if ms, err := strconv.ParseInt(meta["created_at_ms"], 10, 64); err == nil && ms > 0 {
			info.CreatedAt = time.UnixMilli(ms).UTC()
		}
		out[i] = campaignRead{CampaignInfo: info, known: name != "" && (all[i].member.Val() || len(meta) > 0)}
	}
	return out, nil
}

// FirstInvite is a campaign's first invite (by enqueue time) and when it
// was enqueued; ok is false for a campaign without invites. Campaigns
// registered before campaign meta existed take their room and sender from it.
func (c *Client) FirstInvite(ctx context.Context, campaign string) (r record.Result, at time.Time, ok bool, err error) {
	first, err := c.rdb.ZRangeWithScores(ctx, c.k.invites(campaign), 0, 0).Result()
	if err != nil {
		return r, at, false, fmt.Errorf("read the first invite of campaign %q: %w", campaign, err)
	}
	var key string
	if len(first) > 0 {
		at = time.UnixMilli(int64(first[0].Score)).UTC()
		key, _ = first[0].Member.(string)
	} else if key, err = c.firstListed(ctx, campaign); err != nil || key == "" {
		return r, at, false, err
	}
	r, ok, err = c.Get(ctx, key)
	if at.IsZero() {
		at = r.EnqueuedAt // the list keeps no enqueue times
	}
	return r, at, ok, err
}

// CampaignSender is the sender of a campaign's invites (from its meta hash,
// else from its first invite: data written before campaign meta existed).
func (c *Client) CampaignSender(ctx context.Context, campaign string) (string, error) {
	sender, err := c.rdb.HGet(ctx, c.k.meta(campaign), "sender").Result()
	if err == nil && sender != "" && sender != "*" {
		return sender, nil
	}
	r, _, ok, err := c.FirstInvite(ctx, campaign)
	if err != nil || !ok {
		return "", err
	}
	return r.Sender, nil
}
