package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/report"
)

func statusCommand() *cli.Command {
	flags := append(redisFlags(),
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"},
		&cli.BoolFlag{Name: "json", Usage: "print one JSON object"},
		&cli.BoolFlag{Name: "watch", Usage: "refresh every second until no invite of the campaign is pending"},
	)
	return &cli.Command{
		Name:         "status",
		Usage:        "show a campaign's counts: queued, scheduled, retrying, and final results by status",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runStatus,
	}
}

func runStatus(ctx context.Context, cmd *cli.Command) error {
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	store := rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")})
	if err := knownCampaign(ctx, store, cmd.String("campaign")); err != nil {
		return err
	}
	out := cmd.Root().Writer
	for {
		c, err := store.Counts(ctx, cmd.String("campaign"))
		if err != nil {
			return fail("%v", err)
		}
		o, err := store.Outlook(ctx, c)
		if err != nil {
			return fail("%v", err)
		}
		if cmd.Bool("json") {
			if err := json.NewEncoder(out).Encode(statusJSON{c, o}); err != nil {
				return err
			}
		} else if err := report.WriteStatus(out, c, o); err != nil {
			return err
		}
		if !cmd.Bool("watch") || c.Pending() == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// statusJSON is status --json: the counters and the outlook in one object
// ("paused" is null when nothing holds the campaign).
type statusJSON struct {
	record.CampaignCounts
	record.Outlook
}
