package main

import (
	"bufio"
	"context"
	"io"
	"os"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/report"
	"github.com/mxinvite/mxinvite/matrix"
)

func resultsCommand() *cli.Command {
	flags := append(redisFlags(),
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"},
		&cli.StringFlag{Name: "format", Value: "jsonl", Usage: "jsonl or csv (csv re-imports with enqueue --file)"},
		&cli.BoolFlag{Name: "failed", Usage: "only invites that ended in failure"},
		&cli.BoolFlag{Name: "joined", Usage: "only invites whose invitee is in the room (joined_at_ms; see mxinvite track)"},
		&cli.BoolFlag{Name: "pending", Usage: "only invites delivered (by Matrix ID or 3PID, or found already invited) whose invitee has not joined yet"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to this file instead of stdout"},
	)
	return &cli.Command{
		Name:         "results",
		Usage:        "print one record per invite of a campaign",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runResults,
	}
}

func runResults(ctx context.Context, cmd *cli.Command) (err error) {
	// A bad --format or an unknown campaign is refused before --output is created.
	if _, err := report.NewResultWriter(io.Discard, cmd.String("format")); err != nil {
		return usageErr("--format: %v", err)
	}
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	store := rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")})
	if err := knownCampaign(ctx, store, cmd.String("campaign")); err != nil {
		return err
	}
	var out io.Writer = cmd.Root().Writer
	if path := cmd.String("output"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return usageErr("--output: %v", err)
		}
		defer func() {
			if cerr := f.Close(); err == nil && cerr != nil {
				err = fail("--output: %v", cerr)
			}
		}()
		out = f
	}
	bw := bufio.NewWriter(out)
	rw, err := report.NewResultWriter(bw, cmd.String("format"))
	if err != nil {
		return usageErr("--format: %v", err)
	}
	failedOnly, joinedOnly, pendingOnly := cmd.Bool("failed"), cmd.Bool("joined"), cmd.Bool("pending")
	if n := b2i(failedOnly) + b2i(joinedOnly) + b2i(pendingOnly); n > 1 {
		return usageErr("--failed, --joined and --pending: give one at most")
	}
	err = store.Results(ctx, cmd.String("campaign"), func(r record.Result) error {
		switch {
		case failedOnly && (!r.Final() || r.StatusCode == matrix.Success),
			joinedOnly && r.JoinedAtMS == 0,
			pendingOnly && (!r.Final() || r.StatusCode != matrix.Success || r.JoinedAtMS != 0 ||
				r.Delivery == record.DeliveryAlreadyJoined):
			return nil
		}
		return rw.Write(r)
	})
	if err != nil {
		return fail("%v", err)
	}
	if err := rw.Flush(); err != nil {
		return fail("write results: %v", err)
	}
	return bw.Flush()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
