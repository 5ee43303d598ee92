package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/matrix"
)

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:         "cancel",
		Usage:        "remove a campaign's invites not sent yet (queued, scheduled, retrying); finished results stay",
		Flags:        append(redisFlags(), &cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"}),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			_, conn, err := connectRedis(ctx, cmd)
			if err != nil {
				return err
			}
			defer conn.Close()
			prod := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
			if err := knownCampaign(ctx, prod.Store(), cmd.String("campaign")); err != nil {
				return err
			}
			st, err := prod.Cancel(ctx, cmd.String("campaign"))
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.Root().Writer, "campaign %s: %d cancelled, %d being sent now (not recalled), %d finished (kept), %d cancelled before\n",
				cmd.String("campaign"), st.Cancelled, st.InFlight, st.Finished, st.AlreadyCancelled)
			return nil
		},
	}
}

func retryCommand() *cli.Command {
	return &cli.Command{
		Name:  "retry",
		Usage: "re-enqueue a campaign's finished invites that ended with one status",
		Flags: append(redisFlags(),
			&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"},
			&cli.StringFlag{Name: "status", Required: true, Usage: "status name or number, e.g. NetworkError or 101"},
		),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			code, err := matrix.ParseStatusCode(cmd.String("status"))
			if err != nil {
				return usageErr("--status %q: %v", cmd.String("status"), err)
			}
			if code == matrix.Success {
				return usageErr("--status Success: delivered invites are not sent again (use invite --again for one)")
			}
			_, conn, err := connectRedis(ctx, cmd)
			if err != nil {
				return err
			}
			defer conn.Close()
			prod := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
			if err := knownCampaign(ctx, prod.Store(), cmd.String("campaign")); err != nil {
				return err
			}
			st, err := prod.Retry(ctx, cmd.String("campaign"), code)
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(cmd.Root().Writer, "campaign %s: %d invites that ended %s re-enqueued, %d skipped (already pending)\n",
				cmd.String("campaign"), st.Enqueued, code, st.Skipped)
			return nil
		},
	}
}
