package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/preflight"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/schedule"
)

func scheduleCommand() *cli.Command {
	addFlags := append(redisFlags(), profileFlags()...)
	addFlags = append(addFlags,
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name"},
		&cli.StringFlag{Name: "cron", Required: true, Usage: `when to re-read the list, UTC: "0 9 * * 1", "@daily", "@every 6h"`},
		&cli.StringFlag{Name: "room", Required: true, Usage: roomFlagUsage + "; an alias is resolved now, with --homeserver"},
		&cli.StringFlag{Name: "file", Required: true, Usage: "the list, read again at every tick by the scheduler"},
		&cli.StringFlag{Name: "rejects", Usage: "where each tick writes its rejected rows (default: --file PATH with .rejects before the extension)"},
		priorityFlag(),
	)
	addFlags = append(addFlags, listFlags()...)
	return &cli.Command{
		Name:  "schedule",
		Usage: "recurring campaigns: a list re-read on a schedule, enqueueing only addresses not invited yet",
		Commands: []*cli.Command{
			{Name: "add", Usage: "add or replace a recurring campaign", Flags: addFlags, OnUsageError: onUsageError, Action: runScheduleAdd},
			{Name: "list", Usage: "list recurring campaigns", OnUsageError: onUsageError,
				Flags: append(redisFlags(), &cli.BoolFlag{Name: "json", Usage: "print one JSON array"}), Action: runScheduleList},
			{Name: "remove", Usage: "remove a recurring campaign (its invites stay)", OnUsageError: onUsageError,
				Flags: append(redisFlags(), &cli.StringFlag{Name: "campaign", Required: true}), Action: runScheduleRemove},
		},
	}
}

func runScheduleAdd(ctx context.Context, cmd *cli.Command) error {
	if cmd.String("file") == "-" {
		return usageErr("--file -: a recurring campaign re-reads a file at every tick, not stdin")
	}
	// The same checks as enqueue, now rather than at every tick.
	list, err := planList(cmd)
	if err != nil {
		return err
	}
	o := list.Options
	c := schedule.Campaign{Name: o.Campaign, Cron: cmd.String("cron"), Column: o.Column,
		Encoding: o.Encoding, Region: o.Region,
		Medium: string(o.Medium), MediumFromList: o.MediumFromList,
		IDServer: o.IDServer, Sender: o.Sender, Priority: string(o.Priority), Created: time.Now().UTC()}
	sched, err := c.Schedule()
	if err != nil {
		return usageErr("--cron: %v", err)
	}
	if c.File, err = filepath.Abs(list.Input); err != nil {
		return usageErr("--file: %v", err)
	}
	if c.Rejects = cmd.String("rejects"); c.Rejects == "" {
		c.Rejects = importer.DefaultRejects(c.File)
	}
	if c.Rejects, err = filepath.Abs(c.Rejects); err != nil {
		return usageErr("--rejects: %v", err)
	}
	if sameFile(c.File, c.Rejects) {
		return usageErr("--rejects %s: must not be the list", c.Rejects)
	}
	if err := checkRejectsDir(c.Rejects); err != nil {
		return err
	}
	c.RoomID = list.Room
	if list.Alias {
		p, err := readProfile(cmd)
		if err != nil {
			return err
		}
		id, err := preflight.ResolveRoom(ctx, matrixClient(cmd, p), list.Room)
		if err != nil {
			return fail("--room: %v", err)
		}
		c.RoomID = string(id)
	}
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := schedule.NewStore(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")})).Add(ctx, c); err != nil {
		return usageErr("%v", err)
	}
	fmt.Fprintf(cmd.Root().Writer, "recurring campaign %s: %s into %s on %q; next tick %s; "+
		"each tick's rejected rows go to %s (run mxinvite scheduler, or worker --scheduler)\n",
		c.Name, c.File, c.RoomID, c.Cron, sched.Next(time.Now().UTC()).Format(time.RFC3339), c.Rejects)
	return nil
}

// checkRejectsDir refuses a rejects path whose directory does not exist, so
// that the ticks do not all fail on it. The scheduler creates the file (see
// addrlist.RejectsFile), perhaps on another machine: this only checks here.
func checkRejectsDir(path string) error {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return usageErr("--rejects %s: %v", path, err)
	} else if !st.IsDir() {
		return usageErr("--rejects %s: %s is not a directory", path, dir)
	}
	return nil
}

// scheduleEntry is one line of schedule list --json.
type scheduleEntry struct {
	schedule.Campaign
	NextTick time.Time      `json:"next_tick,omitzero"`
	LastTick *schedule.Tick `json:"last_tick,omitempty"`
}

func runScheduleList(ctx context.Context, cmd *cli.Command) error {
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	store := schedule.NewStore(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}))
	list, err := store.List(ctx)
	if err != nil {
		return fail("%v", err)
	}
	ticks, err := store.LastTicks(ctx)
	if err != nil {
		return fail("%v", err)
	}
	now := time.Now().UTC()
	out := cmd.Root().Writer
	if cmd.Bool("json") { // one JSON document, as every --json (TestJSONConvention)
		entries := make([]scheduleEntry, 0, len(list))
		for _, c := range list {
			e := scheduleEntry{Campaign: c}
			if s, err := c.Schedule(); err == nil {
				e.NextTick = s.Next(now)
			}
			if t, ok := ticks[c.Name]; ok {
				e.LastTick = &t
			}
			entries = append(entries, e)
		}
		return json.NewEncoder(out).Encode(entries)
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "no recurring campaigns (add one with mxinvite schedule add)")
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CAMPAIGN\tCRON\tNEXT TICK\tLAST TICK\tLAST RESULT\tROOM\tFILE\tREJECTS")
	for _, c := range list {
		next := "-"
		if s, err := c.Schedule(); err == nil {
			next = s.Next(now).Format(time.RFC3339)
		}
		last, result := "never", "-"
		if t, ok := ticks[c.Name]; ok {
			last, result = t.At.Format(time.RFC3339), tickResult(t)
		}
		rejects := c.Rejects
		if rejects == "" {
			rejects = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Cron, next, last, result, c.RoomID, c.File, rejects)
	}
	return tw.Flush()
}

// tickResult sums a tick up in a few words.
func tickResult(t schedule.Tick) string {
	if t.Error != "" {
		return "failed: " + t.Error
	}
	return fmt.Sprintf("enqueued %d, already queued %d, already done %d, rejected %d",
		t.Stats.Enqueued, t.Stats.AlreadyQueued, t.Stats.AlreadyDone, t.Stats.Rejected)
}

func runScheduleRemove(ctx context.Context, cmd *cli.Command) error {
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	ok, err := schedule.NewStore(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")})).Remove(ctx, cmd.String("campaign"))
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
			_, conn, err := connectRedis(ctx, cmd)
			if err != nil {
				return err
			}
			defer conn.Close()
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return newRunner(cmd, conn, log).Run(ctx)
		},
	}
}

// newRunner wires a scheduler to the command's Redis, prefix and queue.
func newRunner(cmd *cli.Command, conn redis.UniversalClient, log *zerolog.Logger) *schedule.Runner {
	host, _ := os.Hostname()
	prod := producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
	return &schedule.Runner{
		Store:  schedule.NewStore(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")})),
		Import: schedule.ImportWith(prod, log),
		Owner:  fmt.Sprintf("%s:%d", host, os.Getpid()),
		Logger: log,
	}
}
