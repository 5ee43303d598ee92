package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// P2 parameters.
const (
	p2Rows         = 1_000_000
	p2SerialRows   = 100_000 // a serial loop over all rows would take minutes
	p2ParallelRows = 1_000_000
	p2Goroutines   = 16
	p2Campaign     = "bench"
	p2ImportLimit  = 100 * time.Second // 10,000 rows/s at least, or it is cut
	p2LoopLimit    = 120 * time.Second // 1,000,000 rows at 8,300/s: a loaded machine still gives a figure
	p2RateGoal     = 50_000
	p2RSSGoalBytes = 100_000_000
	// p2ParallelGoal: the importer keeps up with 16 goroutines of plain
	// asynq enqueue (issue 14), records and duplicate checks included.
	p2ParallelGoal = 0.9
)

// p2Result is the importer's run, or why there is none.
type p2Result struct {
	rows      int64
	wall      time.Duration
	maxRSSKiB int64
	rssSource string
	note      string
	err       error // "not available: …"
}

// runP2 measures `mxinvite enqueue` over a CSV file of p2Rows addresses, as
// a child process (so its peak RSS is not mixed with the bench's), and two plain asynq
// enqueue loops reading the same file.
func runP2(ctx context.Context, e *env) []row {
	csvPath := filepath.Join(e.dir, "p2.csv")
	if err := writeCSV(csvPath, p2Rows); err != nil {
		return printed(failed("P2", "CSV file", noGoal, err))
	}
	imp := p2Importer(ctx, e, csvPath)
	_ = e.flush(ctx)
	serial, serialNote, serialErr := p2Loop(ctx, e, csvPath, p2SerialRows, 1)
	_ = e.flush(ctx)
	par, parNote, parErr := p2Loop(ctx, e, csvPath, p2ParallelRows, p2Goroutines)
	_ = os.Remove(csvPath)

	var rows []row
	rateGoal := "≥ " + fmtInt(p2RateGoal) + " rows/s"
	rssGoal := "≤ 100 MB"
	if imp.err != nil {
		na := "not available: " + oneLine(imp.err.Error())
		rows = append(rows,
			row{id: "P2a", what: "`mxinvite enqueue` rows/s", measured: na, goal: rateGoal, met: metNA, notes: imp.note},
			row{id: "P2b", what: "`mxinvite enqueue` peak RSS", measured: na, goal: rssGoal, met: metNA})
	} else {
		r := rate(imp.rows, imp.wall)
		rows = append(rows,
			row{id: "P2a", what: "`mxinvite enqueue` rows/s", measured: fmtRate(imp.rows, imp.wall), goal: rateGoal,
				met: verdict(r >= p2RateGoal), notes: imp.note},
			row{id: "P2b", what: "`mxinvite enqueue` peak RSS", measured: fmtMB(imp.maxRSSKiB), goal: rssGoal,
				met: verdict(imp.maxRSSKiB*1024 <= p2RSSGoalBytes), notes: "the child process's peak: " + imp.rssSource})
	}
	rows = append(rows, loopRows("P2c", "P2d", "naive serial asynq.Client.Enqueue loop", p2SerialRows, serial, serialNote, serialErr, imp, 0)...)
	rows = append(rows, loopRows("P2e", "P2f", fmt.Sprintf("%d-goroutine plain asynq enqueue", p2Goroutines), p2ParallelRows, par, parNote, parErr, imp,
		p2ParallelGoal)...)
	return printed(rows...)
}

// loopRows are a baseline's rate and the importer's ratio to it, against
// goal (≥; 0: none).
func loopRows(id, ratioID, what string, n int64, d time.Duration, note string, err error, imp p2Result, goal float64) []row {
	params := fmt.Sprintf("%s rows of the same file; reads CSV, tasks.NewInvite, Invite.Task, EnqueueContext; no mxinvite record; %s",
		fmtInt(n), note)
	if err != nil {
		return []row{failed(id, what+" (rows/s)", noGoal, err)}
	}
	out := []row{reference(id, what+" (rows/s)", fmtRate(n, d), params)}
	r := reference(ratioID, "importer ÷ "+what, "not available (no importer figure)", "P2a ÷ "+id)
	if goal > 0 {
		r.goal, r.met = fmt.Sprintf("≥ %.2f", goal), metNA
	}
	if imp.err == nil {
		ratio := rate(imp.rows, imp.wall) / rate(n, d)
		r.measured = fmt.Sprintf("%.2f", ratio)
		if goal > 0 {
			r.met = verdict(ratio >= goal)
		}
	}
	return append(out, r)
}

// writeCSV writes the importer's generated list (importer.GenerateCSV:
// an "email,name" header and n valid rows) to path.
func writeCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := importer.GenerateCSV(f, n, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// p2Importer runs `mxinvite enqueue` over the file. If it fails, the
// reason is the row's figure; the baselines are measured either way.
func p2Importer(ctx context.Context, e *env, csvPath string) p2Result {
	u0 := e.sample(ctx)
	prof := filepath.Join(e.profileDir(), "P2a")
	c, err := e.startChild(ctx, "p2-enqueue", p2ImportLimit, []string{"MXINVITE_PPROF=" + prof},
		"enqueue", "--no-preflight", "--room", simulator.DefaultRoomID, "--campaign", p2Campaign,
		"--file", csvPath, "--redis", e.redisURL(), "--json")
	if err != nil {
		return p2Result{err: err}
	}
	x := c.wait()
	work := e.since(ctx, u0)
	if x.err == nil {
		for _, s := range childProfileSummaries(ctx, "P2a `mxinvite enqueue`", prof) {
			e.profiles.add(s)
		}
	}
	res := p2Result{wall: x.wall, maxRSSKiB: x.maxRSSKiB, rssSource: x.rssSource}
	// What Redis holds is the check: the summary could be wrong, or absent
	// when the process was cut.
	counts, cerr := rdb.New(e.rdb, rdb.Options{Prefix: ""}).Counts(ctx, p2Campaign)
	inRedis := fmt.Sprintf("%s registrations in Redis", fmtInt(int64(counts.Enqueued)))
	if cerr != nil {
		inRedis = "Redis counters unreadable: " + cerr.Error()
	}
	if x.err != nil {
		res.err = x.err
		if x.code == -1 {
			res.err = fmt.Errorf("cut after %s (%s)", p2ImportLimit, inRedis)
		}
		fmt.Printf("   mxinvite enqueue: %v\n", res.err)
		return res
	}
	sum, err := enqueueSummary(x.stdout)
	if err != nil {
		res.err = err
		fmt.Printf("   mxinvite enqueue: %v\n", res.err)
		return res
	}
	res.rows = sum
	res.note = fmt.Sprintf("%s rows, child process, --no-preflight --json; %s in %s; %s; %s",
		fmtInt(p2Rows), fmtInt(sum), x.wall.Round(time.Millisecond), inRedis, work.per(sum, x.wall, x.cpu, "row"))
	if sum != p2Rows {
		res.note += fmt.Sprintf("; WARNING: enqueued %s of %s rows", fmtInt(sum), fmtInt(p2Rows))
	}
	fmt.Printf("   mxinvite enqueue: %s rows in %s = %s, peak RSS %s (%s)\n", fmtInt(sum),
		x.wall.Round(time.Millisecond), fmtRate(sum, x.wall), fmtMB(x.maxRSSKiB), res.note)
	fmt.Printf("      Redis commands per row: %s\n", work.top(sum, 12))
	return res
}

// enqueueSummary finds the JSON object the importer prints with --json and
// returns its "enqueued" count.
func enqueueSummary(stdout string) (int64, error) {
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var sum struct {
			Enqueued *int64 `json:"enqueued"`
		}
		if json.Unmarshal([]byte(lines[i]), &sum) == nil && sum.Enqueued != nil {
			return *sum.Enqueued, nil
		}
	}
	// A pretty-printed object spans lines: try the whole output too.
	var sum struct {
		Enqueued *int64 `json:"enqueued"`
	}
	if json.Unmarshal([]byte(stdout), &sum) == nil && sum.Enqueued != nil {
		return *sum.Enqueued, nil
	}
	if stdout == "" {
		return 0, errors.New(`exited 0 but printed nothing (want a JSON object with "enqueued")`)
	}
	return 0, fmt.Errorf(`no JSON object with "enqueued" on stdout (last line %q)`, lastLine(stdout))
}
