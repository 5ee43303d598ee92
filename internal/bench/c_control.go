package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// Control-at-scale parameters (issue 14).
const (
	cSmall, cLarge = 20_000, 200_000
	cGoal          = 10 * time.Second
	// cLimit cuts one command: a cut run is reported with the share it did
	// and the time that share extrapolates to.
	cLimit      = 15 * time.Second
	cSetupLimit = 150 * time.Second
	// cRatioGoal: the large campaign is 10× the small one; linear cost is a
	// ratio of 10, and up to 12.5 is taken as linear (fixed costs make it
	// smaller).
	cRatioGoal = 12.5
)

// cCampaign is one campaign of the scenario.
type cCampaign struct {
	name string
	n    int
}

// runC measures `mxinvite retry`, `cancel` and `purge` on a 20,000- and a
// 200,000-invite campaign, as child processes: what an operator waits for.
// The campaigns are imported with `mxinvite enqueue`, then finished fast by
// an in-process worker whose sender has no identity server (each invite ends
// IncorrectRequest without an HTTP request: the records are those of real
// failures). `retry --status IncorrectRequest` re-enqueues them, `cancel`
// then cancels the re-enqueued invites, and `purge` deletes the cancelled
// invites (records, counters, index, tasks).
func runC(ctx context.Context, e *env) []row {
	camps := []cCampaign{{"c20k", cSmall}, {"c200k", cLarge}}
	var rows []row
	measure := func(op string, first int) {
		var res [2]cResult
		for k, c := range camps {
			res[k] = e.controlOp(ctx, op, c)
			rows = append(rows, res[k].row(fmt.Sprintf("C%d", first+k), op, c))
		}
		rows = append(rows, ratioOfOps(fmt.Sprintf("C%d", first+2), op, res))
	}
	if err := cSetup(ctx, e, camps); err != nil {
		for i, op := range []string{"retry", "cancel", "purge"} {
			rows = append(rows, failed(fmt.Sprintf("C%d", 1+3*i), "`"+op+"` at scale", "≤ 10 s", fmt.Errorf("setup: %w", err)))
		}
		return printed(rows...)
	}
	measure("retry", 1)
	measure("cancel", 4)
	if !e.hasCommand(ctx, "purge") {
		for k, c := range camps {
			rows = append(rows, row{id: fmt.Sprintf("C%d", 7+k), what: fmt.Sprintf("`purge` of a %s-invite campaign", fmtInt(int64(c.n))),
				measured: "not built", goal: "≤ 10 s", met: metNA, notes: "this mxinvite binary has no purge command"})
		}
		rows = append(rows, row{id: "C9", what: "`purge`: 200k time ÷ 20k time", measured: "not built", goal: "≤ 12.5 (linear: 10)", met: metNA})
		return printed(rows...)
	}
	measure("purge", 7)
	return printed(rows...)
}

// cSetup imports the campaigns and finishes every invite.
func cSetup(ctx context.Context, e *env, camps []cCampaign) error {
	start := time.Now()
	for _, c := range camps {
		path := filepath.Join(e.dir, c.name+".csv")
		if err := writeCSV(path, c.n); err != nil {
			return err
		}
		// A room per campaign: the same addresses are then other invites.
		k, err := e.startChild(ctx, "c-enqueue-"+c.name, cSetupLimit, nil, "enqueue", "--no-preflight",
			"--room", "!"+c.name+":"+simulator.DefaultServerName, "--campaign", c.name, "--file", path, "--redis", e.redisURL(), "--json")
		if err != nil {
			return err
		}
		if x := k.wait(); x.err != nil {
			return x.err
		}
	}
	enqueued := time.Since(start)
	sim, err := startSim(ctx, simulator.Config{}, nil)
	if err != nil {
		return err
	}
	defer sim.stop()
	w, err := worker.New(worker.Config{
		Redis: e.redisOpt(),
		// No identity server: each invite ends IncorrectRequest at once.
		Profiles:    []worker.Profile{{Name: tasks.DefaultSender, HomeserverURL: sim.url, AccessToken: simulator.DefaultAccessToken}},
		Concurrency: p1Concurrency,
		Breaker:     -1, // every invite fails the same way, on purpose
	})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	store := rdb.New(e.rdb, rdb.Options{Prefix: ""})
	err = pollUntil(ctx, cSetupLimit, func() (bool, error) {
		for _, c := range camps {
			n, err := store.Counts(ctx, c.name)
			if err != nil || n.States[record.StateDone] < c.n {
				return false, err
			}
		}
		return true, nil
	})
	w.Shutdown()
	if err != nil {
		return fmt.Errorf("finishing the invites: %w", err)
	}
	fmt.Printf("   setup: %s invites enqueued in %s, finished (IncorrectRequest) in %s\n", fmtInt(cSmall+cLarge),
		enqueued.Round(100*time.Millisecond), (time.Since(start) - enqueued).Round(100*time.Millisecond))
	return nil
}

// hasCommand reports whether the mxinvite binary lists the command.
func (e *env) hasCommand(ctx context.Context, name string) bool {
	k, err := e.startChild(ctx, "help", 30*time.Second, nil, "--help")
	if err != nil {
		return false
	}
	x := k.wait()
	for _, line := range strings.Split(x.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.TrimSuffix(f[0], ",") == name {
			return true
		}
	}
	return false
}

// cResult is one timed control command.
type cResult struct {
	wall time.Duration
	done float64 // share of the campaign done (1 when the command finished)
	cut  bool
	note string
	err  error
}

// estimate is the time the whole campaign would take: the wall time when
// the command finished, else extrapolated from the share done when cut.
func (r cResult) estimate() time.Duration {
	if !r.cut {
		return r.wall
	}
	if r.done <= 0 {
		return 0
	}
	return time.Duration(float64(r.wall) / r.done)
}

// controlOp runs `mxinvite op --campaign` and checks what it did: the
// share of what there was to do (read from Redis before and after) that
// was done.
func (e *env) controlOp(ctx context.Context, op string, c cCampaign) cResult {
	todo0, err := e.controlTodo(ctx, op, c)
	if err != nil {
		return cResult{err: err}
	}
	args := []string{op, "--campaign", c.name, "--redis", e.redisURL()}
	if op == "retry" {
		args = append(args, "--status", "IncorrectRequest")
	}
	k, err := e.startChild(ctx, "c-"+op+"-"+c.name, cLimit, nil, args...)
	if err != nil {
		return cResult{err: err}
	}
	x := k.wait()
	r := cResult{wall: x.wall, cut: x.code == -1, note: lastLine(x.stdout)}
	if x.err != nil && !r.cut {
		r.err = x.err
		return r
	}
	todo1, err := e.controlTodo(ctx, op, c)
	if err != nil {
		r.err = err
		return r
	}
	if todo0 == 0 {
		r.err = fmt.Errorf("nothing to %s in campaign %s (%s)", op, c.name, r.note)
		return r
	}
	r.done = float64(todo0-todo1) / float64(todo0)
	if todo0 != c.n {
		r.note = fmt.Sprintf("%s of %s invites to %s (an earlier command was cut); %s", fmtInt(int64(todo0)), fmtInt(int64(c.n)), op, r.note)
	}
	if !r.cut && r.done < 1 {
		r.note = fmt.Sprintf("WARNING: exited 0 with %.1f %% done; %s", 100*r.done, r.note)
	}
	fmt.Printf("   %s %s: %s, %.1f %% done%s; %s\n", op, c.name, x.wall.Round(10*time.Millisecond), 100*r.done,
		map[bool]string{true: " (CUT)", false: ""}[r.cut], r.note)
	return r
}

// controlTodo is what is left for op to do in the campaign, read from
// Redis: invites that ended IncorrectRequest (retry), invites pending
// (cancel), invites in the campaign's index (purge).
func (e *env) controlTodo(ctx context.Context, op string, c cCampaign) (int, error) {
	counts, err := rdb.New(e.rdb, rdb.Options{Prefix: ""}).Counts(ctx, c.name)
	if op == "purge" {
		return counts.Enqueued, err // the campaign's index (rdb/index.go)
	}
	if op == "retry" {
		return counts.Statuses["IncorrectRequest"], err
	}
	return counts.Pending(), err
}

func (r cResult) row(id, op string, c cCampaign) row {
	what := fmt.Sprintf("`%s` of a %s-invite campaign", op, fmtInt(int64(c.n)))
	goal := "≤ 10 s"
	if r.err != nil {
		return failed(id, what, goal, r.err)
	}
	notes := fmt.Sprintf("`mxinvite %s --campaign` as a child process, wall time from start to exit; %s", op, r.note)
	if r.cut {
		est := r.estimate()
		measured := fmt.Sprintf("> %s (cut; %.1f %% done)", fmtSec(r.wall), 100*r.done)
		if est > 0 {
			measured += ", ≈ " + fmtSec(est) + " extrapolated"
		}
		return row{id: id, what: what, measured: measured, goal: goal, met: metNo, notes: notes}
	}
	return row{id: id, what: what, measured: fmtSec(r.wall), goal: goal, met: verdict(r.wall <= cGoal && r.done >= 1), notes: notes}
}

// ratioOfOps is the large campaign's time ÷ the small one's.
func ratioOfOps(id, op string, res [2]cResult) row {
	what := fmt.Sprintf("`%s`: 200k time ÷ 20k time", op)
	goal := fmt.Sprintf("≤ %.1f (linear: 10)", cRatioGoal)
	if err := firstErr(res[0].err, res[1].err); err != nil {
		return failed(id, what, goal, err)
	}
	a, b := res[0].estimate(), res[1].estimate()
	if a <= 0 || b <= 0 {
		return row{id: id, what: what, measured: "n/a", goal: goal, met: metNA, notes: "a run was cut before doing anything"}
	}
	ratio := float64(b) / float64(a)
	measured := fmt.Sprintf("%.1f", ratio)
	notes := "C times as measured"
	if res[0].cut || res[1].cut {
		measured = "≈ " + measured
		notes = "from the extrapolated time of a cut run"
	}
	return row{id: id, what: what, measured: measured, goal: goal, met: verdict(ratio <= cRatioGoal), notes: notes}
}

func fmtSec(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
