package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/urfave/cli/v3"
)

func resumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "resume",
		Usage: "end the pause of a sender (dead token, identity terms) or of a campaign (breaker); its invites go out again",
		Flags: append(redisFlags(),
			&cli.StringFlag{Name: "sender", Usage: "sender profile whose pause ends"},
			&cli.StringFlag{Name: "campaign", Usage: "campaign whose pause ends"},
		),
		OnUsageError: onUsageError,
		Action:       runResume,
	}
}

func runResume(ctx context.Context, cmd *cli.Command) error {
	scope, name := record.PauseSender, cmd.String("sender")
	switch c := cmd.String("campaign"); {
	case name != "" && c != "":
		return usageErr("--sender and --campaign: give one, not both")
	case c != "":
		scope, name = record.PauseCampaign, c
	case name == "":
		return usageErr("give --sender NAME or --campaign NAME (mxinvite status shows what is paused)")
	}
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	p := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
	was, err := p.Store().GetPause(ctx, scope, name)
	if err != nil {
		return fail("%v", err)
	}
	woken, err := p.Resume(ctx, scope, name)
	if errors.Is(err, record.ErrNotPaused) {
		return usageErr("%s %q is not paused", scope, name)
	}
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(cmd.Root().Writer, "%s %s resumed (it was paused since %s: %s); %d waiting tasks woken\n",
		scope, name, was.Since.Format("2006-01-02 15:04:05Z07:00"), was.Reason, woken)
	return nil
}
