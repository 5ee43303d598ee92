package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// P5 parameters.
const (
	p5Invites     = 5000
	p5Concurrency = 100
	p5Latency     = 20 * time.Millisecond
	p5Limit       = 60 * time.Second
	p5Campaign    = "p5"
)

// runP5 measures the peak RSS of one worker process sending p5Invites
// invites at concurrency 100 to a simulator that answers after 20 ms, so
// that about 100 invites are in flight at once. No goal was set for it.
func runP5(ctx context.Context, e *env) []row {
	const what = "P5 worker peak RSS at concurrency 100"
	sim, err := startSim(ctx, simulator.Config{Faults: simulator.Faults{Latency: p5Latency}}, nil)
	if err != nil {
		return printed(failed("P5", what, noGoal, err))
	}
	defer sim.stop()
	invs, err := makeInvites(p5Invites, p5Campaign, nil)
	if err != nil {
		return printed(failed("P5", what, noGoal, err))
	}
	if err := enqueueInvites(ctx, e.rdb, "", "", invs); err != nil {
		return printed(failed("P5", what, noGoal, fmt.Errorf("enqueue: %w", err)))
	}
	kids, err := e.startWorkers(ctx, "p5", 1, p5Concurrency, sim, p5Limit)
	if err != nil {
		return printed(failed("P5", what, noGoal, err))
	}
	exits, err := waitAll(kids)
	if err != nil {
		return printed(failed("P5", what, noGoal, err))
	}
	x := exits[0]
	counts, err := rdb.New(e.rdb, rdb.Options{Prefix: ""}).Counts(ctx, p5Campaign)
	if err != nil {
		return printed(failed("P5", what, noGoal, err))
	}
	st := sim.sim.Stats()
	check := fmt.Sprintf("%d Success, %d accepted, %d duplicates", counts.Statuses["Success"], st.Accepted, st.Duplicates)
	if counts.Statuses["Success"] != p5Invites {
		check = "WARNING: " + check
	}
	fmt.Printf("   worker process: %s invites in %s (%s, process start to exit), peak RSS %s from %s; %s\n", fmtInt(p5Invites),
		x.wall.Round(time.Millisecond), fmtRate(p5Invites, x.wall), fmtMB(x.maxRSSKiB), x.rssSource, check)
	return printed(row{id: "P5", what: what, measured: fmtMB(x.maxRSSKiB), goal: "none set", met: noGoal,
		notes: fmt.Sprintf("one `mxinvite worker --concurrency %d --until-idle` process, %s invites, simulator latency %s; "+
			"%s in %s (%s); peak from %s; %s", p5Concurrency, fmtInt(p5Invites), p5Latency, fmtInt(p5Invites),
			x.wall.Round(time.Millisecond), fmtRate(p5Invites, x.wall), x.rssSource, check)})
}
