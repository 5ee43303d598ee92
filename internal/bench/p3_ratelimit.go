package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// P3 parameters.
const (
	p3Invites     = 1000
	p3Processes   = 4
	p3Concurrency = 20
	p3Rate        = 50.0 // invites/s allowed to the sender
	p3Burst       = 10
	// p3Limit cuts the workers: 1,000 invites take 19.8 s at best. A cut
	// run is still measured, over the invites accepted until then.
	p3Limit    = 60 * time.Second
	p3Campaign = "p3"

	p3EfficiencyGoal = 0.95
	p3Share429Goal   = 0.05
)

// runP3 runs 4 worker processes against a simulator that allows one sender
// 50 invites/s with a burst of 10, Synapse style (429 M_LIMIT_EXCEEDED with
// retry_after_ms and Retry-After), and measures how close to the allowed
// rate they get, how often they are refused, and whether they ever come
// back before the advised time.
func runP3(ctx context.Context, e *env) []row {
	const (
		effWhat   = "P3 achieved rate ÷ allowed rate"
		shareWhat = "P3 share of invite requests answered 429"
		earlyWhat = "P3 requests before the advised time"
	)
	effGoal, shareGoal, earlyGoal := fmt.Sprintf("≥ %.2f", p3EfficiencyGoal), "≤ 5 %", "0"
	fail := func(err error) []row {
		return printed(failed("P3a", effWhat, effGoal, err), failed("P3b", shareWhat, shareGoal, err),
			failed("P3c", earlyWhat, earlyGoal, err))
	}
	sim, err := startSim(ctx, simulator.Config{
		RateLimit: simulator.RateLimit{PerSecond: p3Rate, Burst: p3Burst, Style: simulator.StyleSynapse},
	}, nil)
	if err != nil {
		return fail(err)
	}
	defer sim.stop()
	invs, err := makeInvites(p3Invites, p3Campaign, nil)
	if err != nil {
		return fail(err)
	}
	if err := enqueueInvites(ctx, e.rdb, "", "", invs); err != nil {
		return fail(fmt.Errorf("enqueue: %w", err))
	}
	start := time.Now()
	kids, err := e.startWorkers(ctx, "p3", p3Processes, p3Concurrency, sim, p3Limit)
	if err != nil {
		return fail(err)
	}
	exits, err := waitAll(kids)
	wall := time.Since(start)
	cut := ""
	for _, x := range exits {
		if x.code == -1 {
			cut = fmt.Sprintf("; CUT: workers killed after %s", p3Limit)
		}
	}
	if err != nil && cut == "" {
		return fail(err)
	}

	st, acc := sim.sim.Stats(), sim.sim.Accepted()
	counts, err := rdb.New(e.rdb, rdb.Options{Prefix: ""}).Counts(ctx, p3Campaign)
	if err != nil {
		return fail(err)
	}
	if len(acc) < p3Burst+2 {
		return fail(fmt.Errorf("only %d invites accepted", len(acc)))
	}
	// The bucket is full at the first request, which is accepted: from then
	// on it allows burst + rate × t invites in t seconds.
	span := acc[len(acc)-1].Time.Sub(acc[0].Time)
	achieved := float64(len(acc)-p3Burst) / span.Seconds()
	eff := achieved / p3Rate
	share := 0.0
	if st.InviteRequests > 0 {
		share = float64(st.RateLimited) / float64(st.InviteRequests)
	}
	params := fmt.Sprintf("%s invites, %d `mxinvite worker` processes × concurrency %d, one sender; limit %.0f/s burst %d, Synapse style",
		fmtInt(p3Invites), p3Processes, p3Concurrency, p3Rate, p3Burst)
	check := fmt.Sprintf("%d Success, %d accepted, %d duplicates", counts.Statuses["Success"], st.Accepted, st.Duplicates)
	if counts.Statuses["Success"] != p3Invites || st.Duplicates != 0 {
		check = "WARNING: " + check + fmt.Sprintf(" (campaign states %v, statuses %v; %s)", counts.States, counts.Statuses, e.queueState(""))
	}
	check += cut
	// The shared gate's pace at the end says whether a low rate came from
	// pacing too slowly (a large interval) or from waiting on 429s.
	if g, err := e.rdb.HGetAll(ctx, "mxinvite:gate:"+tasks.DefaultSender).Result(); err == nil && g["interval"] != "" {
		check += fmt.Sprintf("; gate pace at the end: %s ms between requests", g["interval"])
	}
	fmt.Printf("   %d accepted over %s (%s from start to last exit): %.1f/s beyond the burst; %d of %d requests answered 429; %d early; %s\n",
		len(acc), span.Round(time.Millisecond), wall.Round(time.Millisecond), achieved, st.RateLimited, st.InviteRequests, st.EarlyRequests, check)
	return printed(
		row{id: "P3a", what: effWhat, measured: fmt.Sprintf("%.3f (%.1f/s)", eff, achieved), goal: effGoal,
			met: verdict(eff >= p3EfficiencyGoal),
			notes: fmt.Sprintf("%s; (%d accepted − burst %d) over %s from first to last acceptance; %s", params, len(acc), p3Burst,
				span.Round(time.Millisecond), check)},
		row{id: "P3b", what: shareWhat, measured: fmt.Sprintf("%.1f %% (%d of %d)", 100*share, st.RateLimited, st.InviteRequests),
			goal: shareGoal, met: verdict(share <= p3Share429Goal), notes: "simulator Stats: RateLimited ÷ InviteRequests"},
		row{id: "P3c", what: earlyWhat, measured: fmt.Sprint(st.EarlyRequests), goal: earlyGoal, met: verdict(st.EarlyRequests == 0),
			notes: "simulator Stats().EarlyRequests (strict: EarlySlack 0)"},
	)
}
