package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/preflight"
	"github.com/mxinvite/mxinvite/internal/schedule"
	"github.com/mxinvite/mxinvite/worker"
)

func scheduleCommand() *cli.Command {
	addFlags := append(redisFlags(), profileFlags()...)
	addFlags = append(addFlags,
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"},
		&cli.StringFlag{Name: "cron", Required: true, Usage: `when to re-read the list, UTC: "0 9 * * 1", "@daily", "@every 6h"`},
		&cli.StringFlag{Name: "room", Required: true, Usage: roomFlagUsage + "; an alias is resolved now, with --homeserver"},
		&cli.StringFlag{Name: "file", Required: true, Usage: "the list, read again at every tick by the scheduler"},
	)
	addFlags = append(addFlags, listFlags()...)
	return &cli.Command{
		Name:  "schedule",
		Usage: "recurring campaigns: a list re-read on a schedule, enqueueing only addresses not invited yet",
		Commands: []*cli.Command{
			{Name: "add", Usage: "add or replace a recurring campaign", Flags: addFlags, OnUsageError: onUsageError, Action: runScheduleAdd},
			{Name: "list", Usage: "list recurring campaigns", OnUsageError: onUsageError,
				Flags: append(redisFlags(), &cli.BoolFlag{Name: "json", Usage: "one JSON object per line"}), Action: runScheduleList},
			{Name: "remove", Usage: "remove a recurring campaign (its invites stay)", OnUsageError: onUsageError,
				Flags: append(redisFlags(), &cli.StringFlag{Name: "campaign", Required: true}), Action: runScheduleRemove},
		},
	}
}

func runScheduleAdd(ctx context.Context, cmd *cli.Command) error {
	c := schedule.Campaign{Name: cmd.String("campaign"), Cron: cmd.String("cron"), File: cmd.String("file"),
		Column: cmd.String("column"), IDServer: cmd.String("id-server"), Sender: cmd.String("sender"), Created: time.Now().UTC()}
	medium, err := listMedium(cmd)
	if err != nil {
		return err
	}
	c.Medium = string(medium)
	abs, err := filepath.Abs(c.File)
	if err != nil {
		return usageErr("--file: %v", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return usageErr("--file: %v", err)
	}
	c.File = abs
	if _, err := c.Schedule(); err != nil {
		return usageErr("--cron: %v", err)
	}
	room, alias, err := roomFlag(cmd, true)
	if err != nil {
		return err
	}
	if alias {
		p, err := readProfile(cmd)
		if err != nil {
			return err
		}
		id, err := preflight.ResolveRoom(ctx, matrixClient(cmd, p), room)
		if err != nil {
			return fail("--room: %v", err)
		}
		room = string(id)
	}
	c.RoomID = room
	_, rdb, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := schedule.NewStore(rdb, cmd.String("prefix")).Add(ctx, c); err != nil {
		return usageErr("%v", err)
	}
	next := "?"
	if s, err := c.Schedule(); err == nil {
		next = s.Next(time.Now().UTC()).Format(time.RFC3339)
	}
	fmt.Fprintf(cmd.Root().Writer, "recurring campaign %s: %s into %s on %q; next tick %s (run mxinvite scheduler, or worker --scheduler)\n",
		c.Name, c.File, c.RoomID, c.Cron, next)
	return nil
}

func runScheduleList(ctx context.Context, cmd *cli.Command) error {
	_, rdb, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer rdb.Close()
	list, err := schedule.NewStore(rdb, cmd.String("prefix")).List(ctx)
	if err != nil {
		return fail("%v", err)
	}
	out := cmd.Root().Writer
	for _, c := range list {
		if cmd.Bool("json") {
			if err := json.NewEncoder(out).Encode(c); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", c.Name, c.Cron, c.RoomID, c.File)
	}
	return nil
}

func runScheduleRemove(ctx context.Context, cmd *cli.Command) error {
	_, rdb, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer rdb.Close()
	ok, err := schedule.NewStore(rdb, cmd.String("prefix")).Remove(ctx, cmd.String("campaign"))
	if err != nil {
		return fail("%v", err)
	}
	if !ok {
		return usageErr("--campaign %q: no such recurring campaign", cmd.String("campaign"))
	}
	fmt.Fprintf(cmd.Root().Writer, "removed recurring campaign %s\n", cmd.String("campaign"))
	return nil
}

func schedulerCommand() *cli.Command {
	return &cli.Command{
		Name:         "scheduler",
		Usage:        "fire recurring campaigns on their schedules (several may run: each tick fires once)",
		Flags:        append(redisFlags(), logFlags()...),
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			log, err := newLogger(cmd, cmd.Root().ErrWriter)
			if err != nil {
				return err
			}
			_, rdb, err := connectRedis(ctx, cmd)
			if err != nil {
				return err
			}
			defer rdb.Close()
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return newRunner(cmd, rdb, log).Run(ctx)
		},
	}
}

// newRunner wires a scheduler to the command's Redis, prefix and queue.
func newRunner(cmd *cli.Command, rdb redis.UniversalClient, log *zerolog.Logger) *schedule.Runner {
	host, _ := os.Hostname()
	prod := worker.NewProducer(rdb, cmd.String("prefix"), cmd.String("queue"))
	return &schedule.Runner{
		Store:  schedule.NewStore(rdb, cmd.String("prefix")),
		Import: schedule.ImportWith(prod, log),
		Owner:  fmt.Sprintf("%s:%d", host, os.Getpid()),
		Logger: log,
	}
}
