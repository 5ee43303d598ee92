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
// this only matters when something hangs.
const budget = 4*time.Minute + 45*time.Second

// scenario is one block of rows of the table.
type scenario struct {
	name string
	run  func(ctx context.Context, e *env) []row
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
		{"P1 pipeline throughput", runP1},
		{"P2 enqueue of 1,000,000 CSV rows", runP2},
		{"P3 rate-limited homeserver, 4 worker processes", runP3},
		{"P4 lateness of retries after a 429", runP4},
		{"P5 worker peak RSS", runP5},
	}
	var rows []row
	for _, sc := range scenarios {
		if !selected(sc.name, only) {
			continue
		}
		fmt.Printf("\n== %s\n", sc.name)
		t := time.Now()
		rows = append(rows, sc.run(ctx, e)...)
		// Every scenario starts from an empty Redis, so none pays for the
		// keys of another (and task IDs cannot collide).
		if err := e.flush(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "bench: flush:", err)
		}
		fmt.Printf("   (%s took %s)\n", sc.name, time.Since(t).Round(100*time.Millisecond))
	}

	rep := report{machine: machine, rows: rows, elapsed: time.Since(start)}
	fmt.Println()
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
