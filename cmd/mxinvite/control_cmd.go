package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/matrix"
)

func cancelCommand() *cli.Command {
	return &cli.Command{
		Name:  "cancel",
		Usage: "remove a campaign's invites not sent yet (queued, scheduled, retrying), or one invite (--address); finished results stay",
		Flags: append(redisFlags(),
			&cli.StringFlag{Name: "campaign", Usage: "campaign name (with --address: only that campaign's invite)"},
			&cli.StringFlag{Name: "address", Usage: "cancel only this invite: its address in any spelling, or its task ID"},
		),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			campaign, address := cmd.String("campaign"), cmd.String("address")
			if campaign == "" && address == "" {
				return usageErr("--campaign or --address is required")
			}
			prod, closeConn, err := controlProducer(ctx, cmd, campaign)
			if err != nil {
				return err
			}
			defer closeConn()
			w := cmd.Root().Writer
			if address != "" {
				inv, err := oneInvite(ctx, prod.Store(), address, campaign)
				if err != nil {
					return err
				}
				st, err := prod.CancelInvite(ctx, inv.Key)
				if err != nil {
					return fail("%v", err)
				}
				fmt.Fprintln(w, cancelOneText(inv, st))
				return nil
			}
			st, err := prod.Cancel(ctx, campaign)
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(w, "campaign %s: %d cancelled, %d being sent now (not recalled), %d finished (kept), %d cancelled before\n",
				campaign, st.Cancelled, st.InFlight, st.Finished, st.AlreadyCancelled)
			if st.TasksLeft > 0 {
				fmt.Fprintf(w, "%d of their tasks stay in asynq's pending list (removing each would scan it): a worker takes each, finds it cancelled and ends it at once, sending nothing; until then asynq counts them as pending\n", st.TasksLeft)
			}
			return nil
		},
	}
}

func retryCommand() *cli.Command {
	return &cli.Command{
		Name:  "retry",
		Usage: "re-enqueue a campaign's finished invites that ended with one status, or one invite (--address)",
		Flags: append(redisFlags(),
			&cli.StringFlag{Name: "campaign", Usage: "campaign name (with --address: only that campaign's invite)"},
			&cli.StringFlag{Name: "status", Usage: "status name or number, e.g. NetworkError or 101 (required without --address)"},
			&cli.StringFlag{Name: "address", Usage: "retry only this invite: its address in any spelling, or its task ID"},
		),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			campaign, address := cmd.String("campaign"), cmd.String("address")
			var code matrix.StatusCode
			switch {
			case address != "" && cmd.IsSet("status"):
				return usageErr("--status: not with --address (the invite's own status is what it retries)")
			case address == "" && campaign == "":
				return usageErr("--campaign or --address is required")
			case address == "":
				if !cmd.IsSet("status") {
					return usageErr("--status is required with --campaign (or name one invite with --address)")
				}
				var err error
				if code, err = matrix.ParseStatusCode(cmd.String("status")); err != nil {
					return usageErr("--status %q: %v", cmd.String("status"), err)
				}
				if code == matrix.Success {
					return usageErr("--status Success: delivered invites are not sent again (use invite --again for one)")
				}
			}
			prod, closeConn, err := controlProducer(ctx, cmd, campaign)
			if err != nil {
				return err
			}
			defer closeConn()
			w := cmd.Root().Writer
			if address != "" {
				inv, err := oneInvite(ctx, prod.Store(), address, campaign)
				if err != nil {
					return err
				}
				v, err := prod.RetryInvite(ctx, inv.Key)
				if errors.Is(err, producer.ErrNotRetriable) {
					return usageErr("--address %q: %v", address, err)
				}
				if err != nil {
					return fail("%v", err)
				}
				fmt.Fprintf(w, "invite %s (campaign %s, ended %s): %s\n", inv.Address, inv.Campaign, orState(inv), retryVerdictText(v))
				return nil
			}
			st, err := prod.Retry(ctx, campaign, code)
			if err != nil {
				return fail("%v", err)
			}
			fmt.Fprintf(w, "campaign %s: %d invites that ended %s re-enqueued, %d skipped (already pending)\n",
				campaign, st.Enqueued, code, st.Skipped)
			return nil
		},
	}
}

// controlProducer connects to Redis for cancel and retry, and checks that
// campaign (when given) exists. The caller closes the connection.
func controlProducer(ctx context.Context, cmd *cli.Command, campaign string) (*producer.Producer, func(), error) {
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return nil, nil, err
	}
	prod := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
	if campaign != "" {
		if err := knownCampaign(ctx, prod.Store(), campaign); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return prod, func() { conn.Close() }, nil
}
