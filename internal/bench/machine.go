package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes where the figures were measured: they mean little
// without it.
type machine struct {
	cpu, kernel, goVersion, redisVersion string
	cores                                int
	loadStart                            string // /proc/loadavg: other work on the machine skews the figures
	code                                 string // the commit measured, and files changed since
	memory                               string
	date                                 time.Time
	// scriptCounting says whether INFO commandstats counts the commands
	// run inside Lua scripts (checked at start).
	scriptCounting string
}

func describeMachine(ctx context.Context, e *env) machine {
	m := machine{
		cpu:       cpuModel(),
		cores:     runtime.NumCPU(),
		memory:    memTotal(),
		goVersion: runtime.Version(),
		kernel:    strings.TrimSpace(readFirst("/proc/sys/kernel/osrelease")),
		date:      time.Now().UTC(),
		loadStart: loadAvg(),
		code:      codeVersion(ctx),
	}
	m.scriptCounting = e.checkScriptCounting(ctx)
	// The version of the server the figures come from, not of whatever
	// redis-server --version would find.
	m.redisVersion = "unknown"
	if info, err := e.rdb.Info(ctx, "server").Result(); err == nil {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				m.redisVersion = v
			}
		}
	}
	return m
}

func (m machine) text() string {
	return fmt.Sprintf("Machine: %s, %d cores (GOMAXPROCS %d), %s RAM, Linux %s; %s, redis-server %s; %s; load average %s\nCode: %s\n"+
		"commandstats counts commands inside scripts: %s",
		m.cpu, m.cores, runtime.GOMAXPROCS(0), m.memory, m.kernel, m.goVersion, m.redisVersion,
		m.date.Format("2006-01-02 15:04 UTC"), m.loadStart, m.code, m.scriptCounting)
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		return v
	}
	return "unknown CPU (" + runtime.GOARCH + ")"
}

// memTotal is MemTotal of /proc/meminfo, in GiB.
func memTotal() string {
	v := procField("/proc/meminfo", "MemTotal") // "24731204 kB"
	kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// procField returns the value of the first "name: value" line of a /proc file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// codeVersion is the commit the binary and the in-process worker were built
// from, with the tracked files changed since (the figures are theirs).
func codeVersion(ctx context.Context) string {
	head, err := exec.CommandContext(ctx, "git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown (git: " + err.Error() + ")"
	}
	v := strings.TrimSpace(string(head))
	st, err := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		return v
	}
	var changed []string
	for _, line := range strings.Split(strings.TrimRight(string(st), "\n"), "\n") { // "XY path"
		if len(line) > 3 {
			changed = append(changed, strings.TrimSpace(line[3:]))
		}
	}
	if len(changed) > 0 {
		v += " with uncommitted changes to " + strings.Join(changed, ", ")
	}
	return v
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	f := strings.Fields(readFirst("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func readFirst(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return string(b)
}
