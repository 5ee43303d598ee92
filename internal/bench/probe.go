package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// usage is the work done during a measured phase, to tell where its time
// went: Redis's CPU and commands, and this process's CPU. It is cheap (two
// INFO calls and two getrusage), so every throughput row carries it.
type usage struct {
	redisCPU time.Duration
	commands int64 // every command Redis ran, those inside scripts included
	scripts  int64 // EVAL and EVALSHA calls: one round trip each
	selfCPU  time.Duration
	byName   map[string]int64 // calls per command name
}

// sample reads the counters now.
func (e *env) sample(ctx context.Context) usage {
	u := usage{byName: map[string]int64{}}
	info, err := e.rdb.Info(ctx, "cpu", "commandstats").Result()
	if err == nil {
		for _, line := range strings.Split(info, "\r\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch {
			case k == "used_cpu_user" || k == "used_cpu_sys":
				f, _ := strconv.ParseFloat(v, 64)
				u.redisCPU += time.Duration(f * float64(time.Second))
			case strings.HasPrefix(k, "cmdstat_"):
				calls := statCalls(v)
				u.byName[strings.TrimPrefix(k, "cmdstat_")] = calls
				u.commands += calls
				if k == "cmdstat_eval" || k == "cmdstat_evalsha" {
					u.scripts += calls
				}
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.selfCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return u
}

// statCalls reads "calls=N" of a commandstats value.
func statCalls(v string) int64 {
	for _, f := range strings.Split(v, ",") {
		if n, ok := strings.CutPrefix(f, "calls="); ok {
			c, _ := strconv.ParseInt(n, 10, 64)
			return c
		}
	}
	return 0
}

// since is the work done from u0 to now.
func (e *env) since(ctx context.Context, u0 usage) usage {
	u := e.sample(ctx)
	d := usage{
		redisCPU: u.redisCPU - u0.redisCPU,
		commands: u.commands - u0.commands,
		scripts:  u.scripts - u0.scripts,
		selfCPU:  u.selfCPU - u0.selfCPU,
		byName:   map[string]int64{},
	}
	for k, v := range u.byName {
		if n := v - u0.byName[k]; n > 0 {
			d.byName[k] = n
		}
	}
	return d
}

// top lists the most frequent commands per item, for the diagnosis printed
// on stdout (too long for the table).
func (u usage) top(n int64, k int) string {
	names := make([]string, 0, len(u.byName))
	for name := range u.byName {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(u.byName[b], u.byName[a]) })
	var parts []string
	for _, name := range names[:min(k, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, float64(u.byName[name])/float64(n)))
	}
	return strings.Join(parts, ", ")
}

// per describes the work per item over a phase of length wall; child is
// the CPU of child processes, if the work was theirs.
func (u usage) per(n int64, wall, child time.Duration, unit string) string {
	if n <= 0 || wall <= 0 {
		return ""
	}
	proc, cpu := "bench process", u.selfCPU
	if child > 0 {
		proc, cpu = "mxinvite process", child
	}
	perItem := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	return fmt.Sprintf("per %s: %.1f Redis scripts, %.1f Redis commands (inside scripts included), CPU %.0f µs Redis + %.0f µs %s; "+
		"busy: Redis %.0f %%, %s %.0f %% of one core",
		unit, float64(u.scripts)/float64(n), float64(u.commands)/float64(n), perItem(u.redisCPU), perItem(cpu), proc,
		100*u.redisCPU.Seconds()/wall.Seconds(), proc, 100*cpu.Seconds()/wall.Seconds())
}

// checkScriptCounting makes sure INFO commandstats counts the commands a
// Lua script runs (the per-invite command counts rely on it): one EVAL of a
// script that runs EXISTS three times must add 3 to cmdstat_exists.
func (e *env) checkScriptCounting(ctx context.Context) string {
	u0 := e.sample(ctx)
	err := e.rdb.Eval(ctx, "redis.call('EXISTS', KEYS[1]); redis.call('EXISTS', KEYS[1]); return redis.call('EXISTS', KEYS[1])",
		[]string{"bench:probe"}).Err()
	if err != nil {
		return "not checked: " + err.Error()
	}
	d := e.since(ctx, u0)
	if n := d.byName["exists"]; n != 3 {
		return fmt.Sprintf("NO: a script's 3 EXISTS calls added %d to cmdstat_exists (command counts below miss script commands)", n)
	}
	return "yes (checked: a script's 3 EXISTS calls added 3 to cmdstat_exists)"
}
