package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/urfave/cli/v3"
)

func purgeCommand() *cli.Command {
	return &cli.Command{
		Name: "purge",
		Usage: "delete finished invites — records, counters, asynq tasks, stream entries — of a campaign, " +
			"or finished before a date; invites not finished are kept",
		Flags: append(redisFlags(),
			&cli.StringFlag{Name: "campaign", Usage: "purge this campaign's finished invites (the campaign too, once none is left)"},
			&cli.StringFlag{Name: "finished-before", Usage: "purge invites finished before this date (2026-01-31, UTC midnight) or RFC 3339 time"},
			&cli.BoolFlag{Name: "dry-run", Usage: "count what would be deleted, delete nothing"},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as one JSON object"},
		),
		OnUsageError: onUsageError,
		Action:       runPurge,
	}
}

func runPurge(ctx context.Context, cmd *cli.Command) error {
	if cmd.Args().Len() > 0 {
		return usageErr("purge: unexpected argument %q", cmd.Args().First())
	}
	opts := record.PurgeOptions{Campaign: cmd.String("campaign"), DryRun: cmd.Bool("dry-run")}
	if raw := cmd.String("finished-before"); raw != "" {
		t, err := parseDate(raw)
		if err != nil {
			return usageErr("--finished-before %q: want a date such as 2026-01-31 or an RFC 3339 time", raw)
		}
		if t.After(time.Now()) {
			return usageErr("--finished-before %s: is in the future", raw)
		}
		opts.FinishedBefore = t
	}
	if opts.Campaign == "" && opts.FinishedBefore.IsZero() {
		return usageErr("purge: give --campaign NAME, --finished-before DATE, or both")
	}
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	st, err := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue")).Purge(ctx, opts)
	if errors.Is(err, record.ErrUnknownCampaign) {
		return usageErr("--campaign %q: no such campaign", opts.Campaign)
	}
	if err != nil {
		return fail("%v (what was purged before this is gone; run the same command again to finish)", err)
	}
	out := cmd.Root().Writer
	if cmd.Bool("json") {
		return json.NewEncoder(out).Encode(st)
	}
	_, err = fmt.Fprintln(out, purgeSummary(opts, st))
	return err
}

// purgeSummary is the one-line summary of a purge.
func purgeSummary(opts record.PurgeOptions, st record.PurgeStats) string {
	var b strings.Builder
	verb := "purged"
	if st.DryRun {
		verb = "dry run: would purge"
	}
	what := "every campaign"
	if opts.Campaign != "" {
		what = "campaign " + opts.Campaign
	}
	if !opts.FinishedBefore.IsZero() {
		what += ", finished before " + opts.FinishedBefore.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "%s: %s %d invite records, %d asynq tasks, %d results stream entries", what, verb, st.Records, st.Tasks, st.StreamEntries)
	if st.StaleIndexEntries > 0 {
		fmt.Fprintf(&b, ", %d index entries of expired records", st.StaleIndexEntries)
	}
	fmt.Fprintf(&b, "; %d invites kept (not finished, or finished later)", st.Kept)
	if len(st.CampaignsDeleted) > 0 {
		fmt.Fprintf(&b, "; campaigns deleted: %s", strings.Join(st.CampaignsDeleted, ", "))
	}
	return b.String()
}

// parseDate reads a date (UTC midnight) or an RFC 3339 time.
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}
