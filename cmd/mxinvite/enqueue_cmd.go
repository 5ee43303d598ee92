package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"

	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/preflight"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redisconn"
	"github.com/mxinvite/mxinvite/worker"
)

func enqueueCommand() *cli.Command {
	flags := append(redisFlags(), profileFlags()...)
	flags = append(flags, acceptTermsFlag())
	flags = append(flags, listFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "room", Required: true, Usage: roomFlagUsage + "; an alias is resolved once"},
		&cli.StringFlag{Name: "campaign", Required: true, Usage: "campaign name the invites are counted under"},
		&cli.StringFlag{Name: "file", Required: true, Usage: "address list: CSV/TSV with a header (contacts exports recognised), vCard, or addresses one or more per line; - for stdin"},
		&cli.StringFlag{Name: "at", Usage: "send from this RFC 3339 time"},
		allowPastFlag(),
		priorityFlag(),
		&cli.DurationFlag{Name: "in", Usage: "send after this delay"},
		&cli.DurationFlag{Name: "spread", Usage: "spread the sends evenly over this long, from --at/--in/now"},
		&cli.StringFlag{Name: "rejects", Usage: "write rejected rows here (default for --file PATH: PATH with .rejects before the extension)"},
		&cli.BoolFlag{Name: "dry-run", Usage: "validate and count, write nothing to Redis"},
		&cli.BoolFlag{Name: "again", Usage: "re-invite invites that already have a final result"},
		&cli.BoolFlag{Name: "no-preflight", Usage: "skip the preflight checks (see mxinvite preflight)"},
		&cli.BoolFlag{Name: "json", Usage: "print the summary as one JSON object"},
		&cli.IntFlag{Name: "concurrency", Value: importer.DefaultWorkers, Usage: "batches registered and enqueued at once"},
	)
	return &cli.Command{
		Name:         "enqueue",
		Usage:        "import an address list: enqueue one invite per address, write bad rows to a rejects file",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runEnqueue,
	}
}

// enqueuePlan is what the flags ask for, checked before anything is done.
type enqueuePlan struct {
	opts        importer.Options
	input       string // path, or "-" for stdin
	rejects     string // "" when rejects are only counted
	room        string // a room ID, or an alias (alias set) to resolve
	alias       bool
	preflight   bool
	profile     worker.Profile
	needProfile bool
}

func runEnqueue(ctx context.Context, cmd *cli.Command) error {
	plan, err := planEnqueue(cmd)
	if err != nil {
		return err
	}
	// The rejects destination first: if it cannot be written, stop before
	// anything is enqueued rather than lose the rejected rows afterwards.
	rejects, err := openRejects(cmd, plan.rejects)
	if err != nil {
		return err
	}
	defer rejects.Close()
	_, conn, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	defer conn.Close()
	room := plan.room
	if plan.needProfile {
		if plan.profile, err = readProfile(cmd); err != nil {
			return err
		}
	}
	if plan.preflight {
		var addresses func() int
		if plan.input != "-" { // stdin can be read only once, by the import
			addresses = func() int {
				return countAddresses(plan.input, plan.opts.ListOptions())
			}
		}
		report := checkProfile(ctx, cmd, plan.profile, addresses, senderPace(ctx, cmd, conn, plan.profile.Name))
		writeChecks(cmd.Root().ErrWriter, report)
		if err := preflightErr(report, "; nothing was enqueued"); err != nil {
			return err
		}
		room = report.RoomID
	} else if plan.alias {
		id, err := preflight.ResolveRoom(ctx, matrixClient(cmd, plan.profile), room)
		if err != nil {
			return fail("--room: %v", err)
		}
		room = string(id)
	}
	plan.opts.RoomID = room
	plan.opts.Producer = producer.New(rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}), cmd.String("queue"))
	return importList(ctx, cmd, plan, rejects)
}

// planEnqueue checks the flags that need neither Redis nor the homeserver,
// so that a typo is one line and exit code 2 before anything is done.
func planEnqueue(cmd *cli.Command) (enqueuePlan, error) {
	p := enqueuePlan{rejects: cmd.String("rejects")}
	list, err := planList(cmd)
	if err != nil {
		return p, err
	}
	p.opts, p.input, p.room, p.alias = list.Options, list.Input, list.Room, list.Alias
	if p.opts.Start, err = parseWhen(cmd); err != nil {
		return p, err
	}
	if p.opts.Spread = cmd.Duration("spread"); p.opts.Spread < 0 {
		return p, usageErr("--spread %s: must not be negative", p.opts.Spread)
	}
	if p.opts.Workers = cmd.Int("concurrency"); p.opts.Workers < 1 {
		return p, usageErr("--concurrency %d: must be at least 1", p.opts.Workers)
	}
	if p.input != "-" && p.rejects == "" {
		p.rejects = importer.DefaultRejects(p.input)
	}
	if p.rejects != "" && p.input != "-" && sameFile(p.input, p.rejects) {
		return p, usageErr("--rejects %s: must not be the input file", p.rejects)
	}
	p.opts.Again, p.opts.DryRun = cmd.Bool("again"), cmd.Bool("dry-run")
	p.preflight = !cmd.Bool("no-preflight")
	p.needProfile = p.preflight || p.alias
	return p, nil
}

// openRejects creates the rejects destination (see addrlist.RejectsFile);
// with no path, rejects are only counted. /dev/stdout and /dev/stderr are
// the command's own output streams, written in place.
func openRejects(cmd *cli.Command, path string) (io.WriteCloser, error) {
	switch path {
	case "":
		return discard{}, nil
	case "/dev/stdout":
		return writerCloser{cmd.Root().Writer}, nil
	case "/dev/stderr":
		return writerCloser{cmd.Root().ErrWriter}, nil
	}
	f, err := addrlist.CreateRejectsFile(path)
	if err != nil {
		return nil, usageErr("--rejects: %v; nothing was enqueued", err)
	}
	return f, nil
}

type writerCloser struct{ io.Writer }

func (writerCloser) Close() error { return nil }

type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) Close() error                { return nil }

// importList runs the import with the input, rejects file and progress bar.
func importList(ctx context.Context, cmd *cli.Command, plan enqueuePlan, rejects io.WriteCloser) error {
	src := cmd.Root().Reader // os.Stdin unless set (tests)
	var size int64 = -1
	if plan.input != "-" {
		f, err := os.Open(plan.input)
		if err != nil {
			return usageErr("--file: %v", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		src = f
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	bar := newProgress(cmd.Root().ErrWriter, size)
	stats, err := importer.Run(ctx, plan.opts, src, rejects, bar.update)
	bar.finish()
	if cerr := rejects.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if errors.Is(err, importer.ErrInput) {
		return usageErr("--file %s: %v", plan.input, err) // nothing was done: the list itself is unusable
	}
	if perr := printSummary(cmd, plan, stats); perr != nil && err == nil {
		err = perr
	}
	if redisconn.IsOutOfMemory(err) {
		return fail("the import stopped: Redis is out of memory (maxmemory is reached and its policy evicts nothing): " +
			"free memory (mxinvite purge) or raise maxmemory, then run the same command again to go on; the summary counts what was done")
	}
	if err != nil {
		return fail("the import stopped: %v (the summary counts what was done; run the same command again to go on: invites already queued are skipped)", redisconn.Explain(err))
	}
	if stats.Valid == 0 {
		return noValidAddress(plan, stats)
	}
	if stats.Rejected > 0 && plan.rejects == "" {
		fmt.Fprintf(cmd.Root().ErrWriter, "mxinvite: %d rows rejected; give --rejects PATH to keep them\n", stats.Rejected)
	}
	return nil
}

// printSummary writes the one-line summary (or JSON object) to stdout.
func printSummary(cmd *cli.Command, plan enqueuePlan, s importer.Stats) error {
	out := cmd.Root().Writer
	rejects := ""
	if s.Rejected > 0 {
		rejects = plan.rejects
	}
	if cmd.Bool("json") {
		return json.NewEncoder(out).Encode(struct {
			Campaign string `json:"campaign"`
			RoomID   string `json:"room_id"`
			importer.Stats
			RejectsFile string `json:"rejects_file,omitempty"`
		}{plan.opts.Campaign, plan.opts.RoomID, s, rejects})
	}
	if s.List != nil {
		// How the list was read comes first: a surprising count below is
		// explained by the column or medium chosen.
		if _, err := fmt.Fprintln(out, "list: "+s.List.String()); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("campaign %s, room %s: %s", plan.opts.Campaign, plan.opts.RoomID, s)
	if rejects != "" {
		line += "; rejects in " + rejects
	}
	_, err := fmt.Fprintln(out, line)
	return err
}

// noValidAddress is the error of an import that found no address to
// invite: the file is not what the operator thinks, or was read the wrong
// way. Exit code 2, dry run or not: a script must not carry on as if the
// campaign were sent.
func noValidAddress(plan enqueuePlan, s importer.Stats) error {
	hint := "the file holds no row"
	if s.Read > 0 {
		hint = fmt.Sprintf("all %d rows were rejected", s.Read)
		if plan.rejects != "" {
			hint += " (see " + plan.rejects + ")"
		}
	}
	if s.List != nil {
		hint += "; read as " + s.List.String()
		if len(s.List.Header) > 0 {
			hint += fmt.Sprintf("; its columns are %q: give --column NAME for the one holding the addresses", s.List.Header)
		} else {
			hint += "; a CSV/TSV file needs a header row naming its columns (then --column NAME)"
		}
	}
	if plan.opts.Medium != "" {
		hint += fmt.Sprintf("; --medium %s rejects addresses of the other medium", plan.opts.Medium)
	}
	return usageErr("--file %s: no valid address: %s", plan.input, hint)
}

// progress draws a progress bar on stderr when it is a terminal, by bytes
// of the input read (the number of rows is unknown until the end).
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(w io.Writer, size int64) *progress {
	f, ok := w.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
		progressbar.OptionSetDescription("importing"))}
}

func (p *progress) update(s importer.Stats) {
	if p.bar == nil {
		return
	}
	p.bar.Describe(fmt.Sprintf("read %d, enqueued %d, rejected %d", s.Read, s.Enqueued, s.Rejected))
	_ = p.bar.Set64(s.Bytes)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// sameFile reports whether two paths name the same file.
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	absA, _ := filepath.Abs(a)
	absB, _ := filepath.Abs(b)
	return absA == absB
}
