// Command bench measures mxinvite against the performance goals of the
// project and prints one table: every row measured in the same run, on this
// machine, each with its goal and whether it was met. With -out it also
// writes the table, with a description of the machine, to a Markdown file
// (make bench writes docs/BENCHMARKS.md).
//
// It starts its own redis-server (internal/redisserver) on a free loopback
// port and never touches another Redis; the simulated homeserver runs in
// this process on a loopback listener. Nothing is asserted: figures are
// printed, goals are compared, and the exit status only reports a bench that
// could not run at all.
//
// Usage:
//
//	go run ./internal/bench [-out docs/BENCHMARKS.md]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// budget bounds the whole run: the scenarios' own bounds add up to less, so
// this only matters when something hangs. 8 minutes: on a loaded machine
// (load average 5-10) a full run took 6 min and the budget cut its last
// row (R23c).
const budget = 8 * time.Minute

// scenario is one block of rows of the table.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env) []row
	// background scenarios spend their time waiting on a simulated limit,
	// not on the CPU: they run one after another on a redis-server of their
	// own while the others run, so the bench stays within minutes.
	background bool
}

func main() {
	out := flag.String("out", "", "also write the report (Markdown) to this file")
	only := flag.String("only", "", "run only these scenarios, e.g. P1,P3 (default all; for working on one)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the bench process (in-process workers and simulator) to this file")
	flag.Parse()
	stop := func() {}
	if *cpuProfile != "" {
		var err error
		if stop, err = startCPUProfile(*cpuProfile); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
	}
	code := run(*out, *only)
	stop() // os.Exit skips deferred calls
	os.Exit(code)
}

func run(out, only string) int {
	start := time.Now()
	// go-redis logs its pool's retries itself; errors reach the rows instead.
	redis.SetLogger(silentRedisLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()

	e, err := newEnv(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	defer e.close()
	machine := describeMachine(ctx, e)
	fmt.Println(machine.text())

	scenarios := []scenario{
		{name: "P1 pipeline throughput, Redis cost and memory per invite", run: runP1},
		{name: "P2 enqueue of 1,000,000 CSV rows", run: runP2},
		{name: "P3 rate-limited homeserver, 4 worker processes", run: runP3},
		{name: "P4 lateness of retries after a 429", run: runP4},
		{name: "P5 worker peak RSS", run: runP5},
		{name: "C control at scale: retry, cancel, purge of 20k and 200k invites", run: runC},
		{name: "R23 back within seconds: a killed worker, a restarted worker, a Sentinel failover", run: runR23},
		{name: "I11 sender back-off and a Synapse-default campaign (background)", run: runI11, background: true},
		{name: "I20 waits of their owners: invitee limits, refused addresses, per-address answers (background)", run: runI20, background: true},
		{name: "I25 resolve-first: a half-bound list against Synapse's default limits (background)", run: runI25, background: true},
		{name: "I22 turns between senders and campaigns (background)", run: runI22, background: true},
	}
	results := make([][]row, len(scenarios))
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		var bg *env
		for i, sc := range scenarios {
			if !sc.background || !selected(sc.name, only) {
				continue
			}
			if bg == nil {
				var err error
				if bg, err = e.sibling("background"); err != nil {
					results[i] = printed(failed(strings.SplitN(sc.name, " ", 2)[0], sc.name, noGoal, err))
					continue
				}
				defer bg.close()
			}
			results[i] = runScenario(ctx, bg, sc)
		}
	}()
	for i, sc := range scenarios {
		if sc.background || !selected(sc.name, only) {
			continue
		}
		results[i] = runScenario(ctx, e, sc)
	}
	<-bgDone
	var rows []row
	for _, r := range results {
		rows = append(rows, r...)
	}

	rep := report{machine: machine, rows: rows, elapsed: time.Since(start), profiles: e.profiles.all()}
	fmt.Println()
	fmt.Print(profilesMarkdown(rep.profiles))
	fmt.Print(rep.table())
	fmt.Printf("\nTotal run time: %s\n", rep.elapsed.Round(time.Second))
	if out != "" {
		if err := os.WriteFile(out, []byte(rep.markdown()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Println("wrote", out)
	}
	return 0
}

// runScenario runs one scenario on e, then empties e's Redis: every
// scenario starts from an empty Redis, so none pays for the keys of another
// (and task IDs cannot collide).
func runScenario(ctx context.Context, e *env, sc scenario) []row {
	fmt.Printf("\n== %s\n", sc.name)
	t := time.Now()
	rows := sc.run(ctx, e)
	if err := e.flush(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench: flush:", err)
	}
	fmt.Printf("   (%s took %s)\n", sc.name, time.Since(t).Round(100*time.Millisecond))
	return rows
}

// startCPUProfile profiles this process until the returned stop is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); _ = f.Close() }, nil
}

// selected reports whether the scenario is in the -only list (empty: all).
func selected(name, only string) bool {
	if only == "" {
		return true
	}
	id, _, _ := strings.Cut(name, " ")
	for _, o := range strings.Split(only, ",") {
		if strings.EqualFold(strings.TrimSpace(o), id) {
			return true
		}
	}
	return false
}

type silentRedisLogger struct{}

func (silentRedisLogger) Printf(context.Context, string, ...any) {}
