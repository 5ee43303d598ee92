package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

func inviteCommand() *cli.Command {
	flags := append(redisFlags(),
		&cli.StringFlag{Name: "room", Required: true, Usage: "room ID: !opaque:server, or !+43 characters for room version 12"},
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name the result is counted under"},
		&cli.StringFlag{Name: "medium", Value: string(tasks.MediumEmail), Usage: "email or msisdn"},
		&cli.StringFlag{Name: "address", Required: true, Usage: "email address, or phone number in international form"},
		&cli.StringFlag{Name: "id-server", Usage: "identity server, hostname[:port] (default: the worker's)"},
		&cli.StringFlag{Name: "sender", Value: tasks.DefaultSender, Usage: "sender profile name on the worker"},
		&cli.StringFlag{Name: "at", Usage: "send at this RFC 3339 time"},
		allowPastFlag(),
		priorityFlag(),
		&cli.DurationFlag{Name: "in", Usage: "send after this delay"},
		&cli.BoolFlag{Name: "again", Usage: "re-invite even if this invite already has a final result"},
	)
	return &cli.Command{
		Name:         "invite",
		Usage:        "enqueue one invite",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runInvite,
	}
}

func runInvite(ctx context.Context, cmd *cli.Command) error {
	medium, err := tasks.ParseMedium(cmd.String("medium"))
	if err != nil {
		return usageErr("--medium: %v", err)
	}
	when, err := parseWhen(cmd)
	if err != nil {
		return err
	}
	prio, err := priorityOf(cmd)
	if err != nil {
		return err
	}
	room, _, err := roomFlag(cmd, false)
	if err != nil {
		return err
	}
	inv, err := tasks.NewInvite(tasks.Invite{
		Campaign: cmd.String("campaign"), RoomID: room, Medium: medium,
		Address: cmd.String("address"), IDServer: cmd.String("id-server"), Sender: cmd.String("sender"),
	})
	if err != nil {
		return fieldFlagErr(err)
	}
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	p := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
	regs, err := p.RegisterAndEnqueue(ctx, []producer.Item{{Invite: inv}}, producer.Options{ProcessAt: when, Again: cmd.Bool("again"), Priority: prio})
	if err != nil {
		return fail("%v", err)
	}
	held := ""
	if r := regs[0]; r.HeldBy != "" && r.HeldBy != inv.Campaign {
		held = " under campaign " + r.HeldBy + ", not " + inv.Campaign
	}
	switch v := regs[0].Verdict; {
	case v == record.Registered && regs[0].HeldBy != "":
		fmt.Fprintf(cmd.Root().Writer, "already queued%s: %s (%s %s); its missing task was enqueued again\n", held, inv.Key(), inv.Medium, inv.Address)
	case v == record.Registered:
		at := "now"
		if !when.IsZero() {
			at = when.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(cmd.Root().Writer, "enqueued %s (%s %s), to be sent %s\n", inv.Key(), inv.Medium, inv.Address, at)
	case v == record.AlreadyPending:
		fmt.Fprintf(cmd.Root().Writer, "already queued%s: %s (%s %s); not enqueued again\n", held, inv.Key(), inv.Medium, inv.Address)
	case v == record.AlreadyDone:
		fmt.Fprintf(cmd.Root().Writer, "already done%s: %s (%s %s) has a final result; use --again to re-invite\n",
			held, inv.Key(), inv.Medium, inv.Address)
	}
	return nil
}
