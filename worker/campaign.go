package worker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// CampaignState sums up where a campaign stands, from its counts.
type CampaignState string

// The campaign states, in the order CampaignStateOf tries them.
const (
	// CampaignEmpty: known, but no invite is in it (all went to another
	// campaign, or were re-invited under one).
	CampaignEmpty CampaignState = "empty"
	// CampaignActive: invites are queued, being sent or waiting to retry.
	CampaignActive CampaignState = "active"
	// CampaignPaused: nothing to send now but paused invites.
	CampaignPaused CampaignState = "paused"
	// CampaignScheduled: nothing to send now but scheduled invites.
	CampaignScheduled CampaignState = "scheduled"
	// CampaignCancelled: nothing pending, and some invites were cancelled.
	CampaignCancelled CampaignState = "cancelled"
	// CampaignFinished: every invite has its final result.
	CampaignFinished CampaignState = "finished"
)

// CampaignStateOf derives the campaign state from its counts.
func CampaignStateOf(c CampaignCounts) CampaignState {
	switch {
	case c.Enqueued == 0:
		return CampaignEmpty
	case c.States[StateQueued]+c.States[StateActive]+c.States[StateRetrying] > 0:
		return CampaignActive
	case c.States[StatePaused] > 0:
		return CampaignPaused
	case c.States[StateScheduled] > 0:
		return CampaignScheduled
	case c.States[StateCancelled] > 0:
		return CampaignCancelled
	}
	return CampaignFinished
}

// CampaignInfo is what a campaign is (from its meta hash, see keys.go) and
// where it stands. Campaigns registered before the meta hash existed have
// empty RoomID, Sender, IDServer, Medium and a zero CreatedAt.
type CampaignInfo struct {
	Name string `json:"name"`
	// RoomID, Sender, IDServer and Medium are those of its invites, "*" when
	// they differ between invites.
	RoomID    string         `json:"room_id"`
	Sender    string         `json:"sender"`
	IDServer  string         `json:"id_server"`
	Medium    string         `json:"medium"`
	CreatedAt time.Time      `json:"created_at,omitzero"`
	State     CampaignState  `json:"state"`
	Counts    CampaignCounts `json:"counts"`
}

// Campaign reads one campaign; ok is false when no campaign of that name was
// ever registered (it is neither in the campaign set nor has a meta hash).
func (s *Store) Campaign(ctx context.Context, name string) (CampaignInfo, bool, error) {
	infos, err := s.campaignInfos(ctx, []string{name})
	if err != nil {
		return CampaignInfo{}, false, err
	}
	return infos[0].CampaignInfo, infos[0].known, nil
}

// ListCampaigns reads every campaign, sorted by name.
func (s *Store) ListCampaigns(ctx context.Context) ([]CampaignInfo, error) {
	names, err := s.Campaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]CampaignInfo, 0, len(names))
	for len(names) > 0 {
		n := min(len(names), campaignPage)
		infos, err := s.campaignInfos(ctx, names[:n])
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
	CampaignInfo
	known bool
}

// campaignInfos reads the campaigns in one MULTI/EXEC: each one's set
// membership, meta, counters and index size describe the same moment.
func (s *Store) campaignInfos(ctx context.Context, names []string) ([]campaignRead, error) {
	type cmds struct {
		member       *redis.BoolCmd
		meta, counts *redis.MapStringStringCmd
		size         *redis.IntCmd
	}
	all := make([]cmds, len(names))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			all[i] = cmds{
				member: p.SIsMember(ctx, s.k.campaigns(), name),
				meta:   p.HGetAll(ctx, s.k.meta(name)),
				counts: p.HGetAll(ctx, s.k.counts(name)),
				size:   p.ZCard(ctx, s.k.invites(name)),
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
	out := make([]campaignRead, len(names))
	for i, name := range names {
		meta := all[i].meta.Val()
		counts := countsFromHash(name, all[i].counts.Val(), all[i].size.Val())
		info := CampaignInfo{
			Name: name, RoomID: meta["room_id"], Sender: meta["sender"], IDServer: meta["id_server"],
			Medium: meta["medium"], State: CampaignStateOf(counts), Counts: counts,
		}
		if ms, err := strconv.ParseInt(meta["created_at_ms"], 10, 64); err == nil && ms > 0 {
			info.CreatedAt = time.UnixMilli(ms).UTC()
		}
		out[i] = campaignRead{CampaignInfo: info, known: name != "" && (all[i].member.Val() || len(meta) > 0)}
	}
	return out, nil
}
