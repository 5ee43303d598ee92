package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Profiles (issue 26): P1a's worker and P2a's `mxinvite enqueue` run under
// pprof, and the top entries of their CPU and allocation profiles go into
// the report, so that a missed goal comes with where the time went. The
// in-process runs (P1a, and P1n for its CPU figure) label their goroutines
// (pprof label bench=<row>): the worker's goroutines, and those they start,
// inherit the label, the in-process simulator's do not, so the CPU of a
// handler is read apart from the simulator serving it. The child is
// profiled by mxinvite itself (MXINVITE_PPROF, cmd/mxinvite/pprof.go).
// Summaries are read with `go tool pprof`; without a go command the files
// are kept and the summary says so.

// profileTopN is how many entries of each profile the report keeps.
const profileTopN = 12

// profileLog collects the summaries of one bench run, in the order taken.
type profileLog struct {
	mu   sync.Mutex
	list []profileSummary
}

// profileSummary is one profile's top entries.
type profileSummary struct {
	title string   // what was profiled, and how to read it
	file  string   // where the profile is (the scratch directory, or MXINVITE_BENCH_LOG)
	lines []string // `go tool pprof -top` lines: the header, then flat flat% sum% cum cum% name
}

func (l *profileLog) add(s profileSummary) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, s)
}

func (l *profileLog) all() []profileSummary {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]profileSummary(nil), l.list...)
}

// profileDir is where profiles are written: MXINVITE_BENCH_LOG if set (kept
// after the run), else the scratch directory.
func (e *env) profileDir() string {
	if d := os.Getenv("MXINVITE_BENCH_LOG"); d != "" {
		return d
	}
	return e.dir
}

// inProcessProfile is a CPU profile of this process and the allocations
// over the same stretch, for the goroutines started under label.
type inProcessProfile struct {
	label            string
	cpuPath          string
	allocBase, alloc string
	cpuFile          *os.File
	mallocs0         uint64
	bytes0           uint64
	// Mallocs and TotalAlloc over the stretch, the whole process
	// (simulator included).
	mallocs, bytes uint64
	err            error // why there is no CPU profile (another is running)
}

// startInProcessProfile starts a CPU profile of this process and takes the
// allocation profile at the start. It fails softly: a profile that cannot
// be taken (the bench's own -cpuprofile is running) leaves err set.
func (e *env) startInProcessProfile(label string) *inProcessProfile {
	dir := e.profileDir()
	p := &inProcessProfile{
		label:     label,
		cpuPath:   filepath.Join(dir, label+".cpu.pprof"),
		allocBase: filepath.Join(dir, label+".allocs0.pprof"),
		alloc:     filepath.Join(dir, label+".allocs.pprof"),
	}
	if err := writeAllocs(p.allocBase); err != nil {
		p.err = err
	}
	f, err := os.Create(p.cpuPath)
	if err == nil {
		if err = pprof.StartCPUProfile(f); err != nil {
			f.Close()
		} else {
			p.cpuFile = f
		}
	}
	if err != nil {
		p.err = err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.mallocs0, p.bytes0 = ms.Mallocs, ms.TotalAlloc
	return p
}

// do runs f with the profile's label, which the goroutines f starts inherit.
func (p *inProcessProfile) do(ctx context.Context, f func(context.Context)) {
	pprof.Do(ctx, pprof.Labels("bench", p.label), f)
}

// stop ends the CPU profile and takes the allocation profile at the end.
func (p *inProcessProfile) stop() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.mallocs, p.bytes = ms.Mallocs-p.mallocs0, ms.TotalAlloc-p.bytes0
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		p.cpuFile.Close()
	}
	if err := writeAllocs(p.alloc); err != nil && p.err == nil {
		p.err = err
	}
}

// labelledCPU is the CPU time of the samples carrying the profile's label
// (the goroutines started under it), or an error.
func (p *inProcessProfile) labelledCPU(ctx context.Context) (time.Duration, error) {
	if p.cpuFile == nil {
		return 0, fmt.Errorf("no CPU profile: %v", p.err)
	}
	out, err := goPprof(ctx, "-tags", "-tagfocus=bench="+p.label, p.cpuPath)
	if err != nil {
		return 0, err
	}
	// "bench: Total 4.2s\n   4.2s (100%): P1a"
	m := regexp.MustCompile(`(?m)^\s*([0-9.]+[a-zµ]*s) \([0-9.]+%\): ` + regexp.QuoteMeta(p.label) + `\s*$`).FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no samples labelled bench=%s in %s", p.label, p.cpuPath)
	}
	return time.ParseDuration(strings.Replace(m[1], "µ", "u", 1))
}

// summaries are the top entries of the CPU profile (labelled samples only)
// and of the allocations over the stretch (whole process but the
// simulator's stacks), with what they cover in the titles.
func (p *inProcessProfile) summaries(ctx context.Context, what string, n int64, unit string) []profileSummary {
	var out []profileSummary
	if p.cpuFile != nil {
		title := fmt.Sprintf("%s: CPU, goroutines labelled bench=%s (the simulator excluded)", what, p.label)
		if cpu, err := p.labelledCPU(ctx); err == nil {
			title += fmt.Sprintf("; %s in all = %s per %s", cpu.Round(time.Millisecond), fmtMicros(cpu, n), unit)
		}
		out = append(out, topSummary(ctx, title, p.cpuPath, "-tagfocus=bench="+p.label, p.cpuPath),
			topSummary(ctx, what+": CPU by mxinvite's own functions, cumulative (same samples)", p.cpuPath,
				"-tagfocus=bench="+p.label, "-cum", "-show="+ownCode, p.cpuPath))
	}
	title := fmt.Sprintf("%s: allocated bytes over the run (alloc_space, stacks through the in-process simulator ignored); "+
		"whole process incl. simulator: %s allocations = %.0f per %s, %s per %s",
		what, fmtInt(int64(p.mallocs)), float64(p.mallocs)/float64(n), unit, fmtBytes(float64(p.bytes)/float64(n)), unit)
	out = append(out, topSummary(ctx, title, p.alloc, "-sample_index=alloc_space", "-ignore="+simulatorStacks,
		"-base="+p.allocBase, p.alloc))
	return out
}

// ownCode matches mxinvite's own functions (pprof -show), for the
// cumulative view: where in the project's code the time goes.
const ownCode = `^github\.com/mxinvite/mxinvite/|^main\.`

// simulatorStacks matches the stacks of the in-process simulator's server
// side (its handlers, and net/http's serving of its connections).
const simulatorStacks = `internal/simulator|net/http\.\(\*conn\)\.serve`

// childProfileSummaries are the top entries of a child's profiles written
// through MXINVITE_PPROF=prefix.
func childProfileSummaries(ctx context.Context, what, prefix string) []profileSummary {
	return []profileSummary{
		topSummary(ctx, what+": CPU, the whole process", prefix+".cpu.pprof", prefix+".cpu.pprof"),
		topSummary(ctx, what+": CPU by mxinvite's own functions, cumulative", prefix+".cpu.pprof",
			"-cum", "-show="+ownCode, prefix+".cpu.pprof"),
		topSummary(ctx, what+": allocated bytes, the whole run (alloc_space)", prefix+".allocs.pprof",
			"-sample_index=alloc_space", prefix+".allocs.pprof"),
	}
}

// topSummary runs `go tool pprof -top` with args and keeps its header's
// "Showing …" and "Duration" lines and the top entries.
func topSummary(ctx context.Context, title, file string, args ...string) profileSummary {
	s := profileSummary{title: title, file: file}
	out, err := goPprof(ctx, append([]string{"-top", "-nodecount=" + strconv.Itoa(profileTopN)}, args...)...)
	if err != nil {
		s.lines = []string{"(no summary: " + oneLine(err.Error()) + ")"}
		return s
	}
	entries := false
	for _, l := range strings.Split(out, "\n") {
		t := strings.TrimSpace(l)
		switch {
		case t == "":
		case strings.HasPrefix(t, "flat "):
			entries = true
			s.lines = append(s.lines, t)
		case entries:
			s.lines = append(s.lines, t)
		case strings.HasPrefix(t, "Duration:"), strings.HasPrefix(t, "Showing nodes"):
			s.lines = append(s.lines, t)
		}
	}
	return s
}

// goPprof runs `go tool pprof` with args and returns its output.
func goPprof(ctx context.Context, args ...string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("no go command to read the profile: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, append([]string{"tool", "pprof"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go tool pprof %s: %v: %s", strings.Join(args, " "), err, lastLine(string(out)))
	}
	return string(out), nil
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = pprof.Lookup("allocs").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fmtMicros is d ÷ n in µs.
func fmtMicros(d time.Duration, n int64) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(n))
}

func fmtBytes(b float64) string {
	if b >= 10*1024 {
		return fmt.Sprintf("%.1f KiB", b/1024)
	}
	return fmt.Sprintf("%.0f B", b)
}

// markdown is the summaries as a section of docs/BENCHMARKS.md.
func profilesMarkdown(list []profileSummary) string {
	if len(list) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("## Profiles\n\n")
	b.WriteString("Top entries of the pprof profiles taken during the rows above (same run): `go tool pprof -top`,\n")
	b.WriteString("flat and cumulative. The files are in the bench's scratch directory (kept with MXINVITE_BENCH_LOG=dir).\n\n")
	for _, s := range list {
		fmt.Fprintf(&b, "### %s\n\n```\n%s\n```\n\n", s.title, strings.Join(s.lines, "\n"))
	}
	return b.String()
}
