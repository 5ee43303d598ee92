package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/track"
	"github.com/mxinvite/mxinvite/worker"
)

func trackCommand() *cli.Command {
	flags := append(redisFlags(), logFlags()...)
	flags = append(flags, profileFlags()...)
	flags = append(flags, acceptTermsFlag(),
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"},
		&cli.BoolFlag{Name: "json", Usage: "print what was seen and the funnel as one JSON object"},
		&cli.StringFlag{Name: "lookup", Value: "on", Sources: env("lookup"),
			Usage: "on: look 3PID invitees' addresses up again (hashed) to see who registered; off: only see who joined among known accounts"},
	)
	return &cli.Command{
		Name: "track",
		Usage: "look again at a campaign's invitees: has a 3PID invitee registered and bound the address, " +
			"who is in the room now (records get registered_at_ms / joined_at_ms; status shows the funnel)",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runTrack,
	}
}

func runTrack(ctx context.Context, cmd *cli.Command) error {
	log, err := newLogger(cmd, cmd.Root().ErrWriter)
	if err != nil {
		return err
	}
	profiles, err := senderProfiles(cmd)
	if err != nil {
		return err
	}
	noLookup, err := lookupFlag(cmd)
	if err != nil {
		return err
	}
	opt, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	campaign := cmd.String("campaign")
	store := rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")})
	if err := knownCampaign(ctx, store, campaign); err != nil {
		return err
	}
	// The worker's senders, clients and identity tokens, without its queue.
	w, err := worker.New(worker.Config{Redis: opt, Profiles: profiles, KeyPrefix: cmd.String("prefix"),
		AcceptIdentityTerms: cmd.Bool("accept-identity-terms"), IdentityScheme: cmd.String("identity-scheme"), Logger: log,
		NoLookup: noLookup})
	if err != nil {
		return usageErr("%v", err)
	}
	defer w.Store().Close()
	rep, err := w.Track(ctx, campaign)
	if err != nil {
		return fail("track: %v", err)
	}
	c, err := store.Counts(ctx, campaign)
	if err != nil {
		return fail("%v", err)
	}
	out := cmd.Root().Writer
	if cmd.Bool("json") {
		return json.NewEncoder(out).Encode(struct {
			track.Report
			Funnel record.Funnel `json:"funnel"`
		}{rep, c.Funnel})
	}
	fmt.Fprintf(out, "tracked %d invites of campaign %s: %d looked up again (%d bound now), %d joined, %d records changed\n",
		rep.Invites, campaign, rep.LookedUp, rep.NewlyBound, rep.Joined, rep.Changed)
	if rep.Unserved > 0 {
		fmt.Fprintf(out, "  %d invites of senders not given here were not looked at\n", rep.Unserved)
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(out, "  problem: %s\n", p)
	}
	_, err = fmt.Fprintf(out, "funnel: sent %d, registered %d, joined %d\n", c.Funnel.Sent, c.Funnel.Registered, c.Funnel.Joined)
	return err
}
