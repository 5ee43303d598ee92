package main

import (
	"context"
	"encoding/json"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/report"
)

func campaignsCommand() *cli.Command {
	return &cli.Command{
		Name:         "campaigns",
		Usage:        "list the campaigns: room, sender, when created, counts and state (active, scheduled, paused, cancelled, finished)",
		Flags:        append(redisFlags(), &cli.BoolFlag{Name: "json", Usage: "print one JSON array"}),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			_, conn, err := connectRedis(ctx, cmd)
			if err != nil {
				return err
			}
			defer conn.Close()
			list, err := rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}).ListCampaigns(ctx)
			if err != nil {
				return fail("%v", err)
			}
			out := cmd.Root().Writer
			if cmd.Bool("json") {
				if list == nil {
					list = []record.CampaignInfo{}
				}
				return json.NewEncoder(out).Encode(list)
			}
			return report.WriteCampaigns(out, list)
		},
	}
}

// knownCampaign refuses, with exit code 2, a campaign that was never
// registered: status, cancel, retry and results would otherwise answer
// zeros for a misspelt name.
func knownCampaign(ctx context.Context, store *rdb.Client, name string) error {
	_, ok, err := store.Campaign(ctx, name)
	switch {
	case err != nil:
		return fail("%v", err)
	case !ok:
		return usageErr("--campaign %q: no such campaign (mxinvite campaigns lists them)", name)
	}
	return nil
}
