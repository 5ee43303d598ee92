package worker

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// PurgeOptions choose what Purge deletes. At least one of Campaign and
// FinishedBefore is required; given both, only that campaign's invites
// finished before the time go.
type PurgeOptions struct {
	// Campaign limits the purge to one campaign. Default: every campaign.
	Campaign string
	// FinishedBefore limits the purge to invites finished before this
	// time (to the second). Default zero: every finished invite.
	FinishedBefore time.Time
	// DryRun counts what would go and deletes nothing.
	DryRun bool
	// BatchSize is how many index entries (or stream entries) one script
	// call looks at: each call blocks Redis for its duration. Default 500.
	BatchSize int
}

// PurgeStats say what Purge deleted (or, in a dry run, would delete).
type PurgeStats struct {
	// Records counts the finished invites' records deleted, with their
	// index entries and share of the campaign counters.
	Records int `json:"records"`
	// Tasks counts the asynq tasks deleted (archived, completed or waiting
	// to retry, with the invite's task ID).
	Tasks int `json:"tasks"`
	// StreamEntries counts the results stream entries deleted.
	StreamEntries int `json:"stream_entries"`
	// StaleIndexEntries counts index entries without a record (expired by
	// Config.FinishedTTL), dropped.
	StaleIndexEntries int `json:"stale_index_entries"`
	// Kept counts the invites the purged campaigns still hold: not
	// finished, or not finished before FinishedBefore.
	Kept int `json:"kept"`
	// CampaignsDeleted are the campaigns left without any invite, whose
	// counters and name were deleted too.
	CampaignsDeleted []string `json:"campaigns_deleted"`
	// DryRun is set when nothing was deleted.
	DryRun bool `json:"dry_run"`
}

// ErrUnknownCampaign is returned by Purge for a campaign Redis does not know.
var ErrUnknownCampaign = errors.New("no such campaign")

// Purge deletes finished invites — records, counters, index entries, the
// asynq tasks left for them and their results stream entries — in batches
// of BatchSize, each one script call, so that a purge takes time linear in
// the invites looked at and never blocks Redis for long. Invites not
// finished are kept (cancel them first to purge a whole campaign). A
// campaign left without invites is deleted.
func (p *Producer) Purge(ctx context.Context, opts PurgeOptions) (PurgeStats, error) {
	st := PurgeStats{DryRun: opts.DryRun, CampaignsDeleted: []string{}}
	if opts.Campaign == "" && opts.FinishedBefore.IsZero() {
		return st, errors.New("purge: give a campaign, a finished-before time, or both")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	campaigns := []string{opts.Campaign}
	if opts.Campaign == "" {
		var err error
		if campaigns, err = p.store.Campaigns(ctx); err != nil {
			return st, err
		}
	} else if ok, err := p.store.rdb.SIsMember(ctx, p.store.k.campaigns(), opts.Campaign).Result(); err != nil {
		return st, fmt.Errorf("purge: %w", err)
	} else if !ok {
		return st, fmt.Errorf("purge: campaign %q: %w", opts.Campaign, ErrUnknownCampaign)
	}
	for _, c := range campaigns {
		if err := p.purgeCampaign(ctx, c, opts, &st); err != nil {
			return st, err
		}
	}
	n, err := p.purgeStream(ctx, opts)
	st.StreamEntries = n
	return st, err
}

// purgeCampaign runs purgeScript over one campaign's index.
func (p *Producer) purgeCampaign(ctx context.Context, campaign string, opts PurgeOptions, st *PurgeStats) error {
	cutoff, cutoffMS := "", int64(0)
	if !opts.FinishedBefore.IsZero() {
		cutoff = opts.FinishedBefore.UTC().Format("2006-01-02T15:04:05")
		cutoffMS = opts.FinishedBefore.Truncate(time.Second).UnixMilli()
	}
	removed := 0 // index entries this campaign loses (or would)
	for first := 0; ; {
		res, err := purgeScript.Run(ctx, p.store.rdb, nil, p.store.k.prefix, campaign, p.queue, first, opts.BatchSize,
			cutoff, cutoffMS, boolArg(opts.DryRun)).Int64Slice()
		if err == nil && len(res) != 6 {
			err = fmt.Errorf("%d values in the reply, want 6", len(res))
		}
		if err != nil {
			return fmt.Errorf("purge campaign %q: %w", campaign, err)
		}
		st.Records += int(res[1])
		st.Tasks += int(res[2])
		st.StaleIndexEntries += int(res[3])
		removed += int(res[1] + res[3])
		first += int(res[4]) // the kept entries stay before the next batch
		if opts.DryRun {
			first += int(res[1] + res[3]) // and so does everything, in a dry run
		}
		if res[5] == 1 {
			break
		}
	}
	return p.deleteIfEmpty(ctx, campaign, removed, opts.DryRun, st)
}

// deleteIfEmpty counts the campaign's invites left and deletes a campaign
// left without any: its counters and its name.
func (p *Producer) deleteIfEmpty(ctx context.Context, campaign string, removed int, dry bool, st *PurgeStats) error {
	n, err := p.store.rdb.ZCard(ctx, p.store.k.invites(campaign)).Result()
	if err != nil {
		return fmt.Errorf("purge campaign %q: %w", campaign, err)
	}
	left := int(n)
	if dry {
		left -= removed
	}
	st.Kept += left
	if left > 0 {
		return nil
	}
	if !dry {
		ok, err := dropCampaignScript.Run(ctx, p.store.rdb, nil, p.store.k.prefix, campaign).Int()
		if err != nil {
			return fmt.Errorf("purge campaign %q: %w", campaign, err)
		}
		if ok == 0 {
			return nil // an invite was registered meanwhile
		}
	}
	st.CampaignsDeleted = append(st.CampaignsDeleted, campaign)
	return nil
}

// purgeStream runs purgeStreamScript over the results stream.
func (p *Producer) purgeStream(ctx context.Context, opts PurgeOptions) (int, error) {
	var cutoffMS int64
	if !opts.FinishedBefore.IsZero() {
		cutoffMS = opts.FinishedBefore.Truncate(time.Second).UnixMilli()
	}
	if opts.Campaign == "" && !opts.DryRun {
		// Entry IDs are finish times: trimming below the cutoff is exact,
		// and cheaper than looking at each entry.
		n, err := p.store.rdb.XTrimMinID(ctx, p.store.k.prefix+":results", strconv.FormatInt(cutoffMS, 10)).Result()
		if err != nil {
			return 0, fmt.Errorf("purge the results stream: %w", err)
		}
		return int(n), nil
	}
	total := 0
	for start := "-"; ; {
		res, err := purgeStreamScript.Run(ctx, p.store.rdb, nil, p.store.k.prefix, opts.Campaign, cutoffMS, start,
			opts.BatchSize, boolArg(opts.DryRun)).Slice()
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("%d values in the reply, want 2", len(res))
		}
		if err != nil {
			return total, fmt.Errorf("purge the results stream: %w", err)
		}
		n, _ := res[0].(int64)
		total += int(n)
		next, _ := res[1].(string)
		if next == "" {
			return total, nil
		}
		start = next
	}
}
