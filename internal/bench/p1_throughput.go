package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// P1 parameters.
const (
	p1Invites     = 20000
	p1Concurrency = 50
	p1Limit       = 60 * time.Second // per run: 20,000 invites at 350/s or better
	p1Goal        = 0.75
	p1NaiveGoal   = 1.0
)

// p1Run is one timed run of P1: how long it took and what Redis and this
// process did meanwhile.
type p1Run struct {
	elapsed time.Duration
	work    usage
	note    string
	mem     memRun // mxinvite's run only: Redis memory queued and finished
	// cpu is the CPU of the handler's goroutines (pprof label; the
	// simulator's excluded), or cpuErr why there is no figure.
	cpu    time.Duration
	cpuErr error
}

func (r p1Run) rate() float64 { return rate(p1Invites, r.elapsed) }

// runP1 compares mxinvite's worker (in process, against the simulator with
// no limit and no latency) with the handler a user would write instead (an
// asynq handler that POSTs the invite to the same simulator and HSETs a
// result) and with a bare asynq server whose handler does nothing, on the
// same Redis, same task count and concurrency. The same runs give the
// Redis cost per invite (R rows) and the Redis memory of an invite (M rows).
func runP1(ctx context.Context, e *env) []row {
	params := fmt.Sprintf("%s invites, concurrency %d, one in-process worker, simulator in the same process (no limit, no latency)",
		fmtInt(p1Invites), p1Concurrency)
	mx, mxErr := p1Worker(ctx, e, false)
	_ = e.flush(ctx)
	direct, directErr := p1Worker(ctx, e, true)
	_ = e.flush(ctx)
	naive, naiveErr := p1Naive(ctx, e, false)
	_ = e.flush(ctx)
	marked, markedErr := p1Naive(ctx, e, true)
	_ = e.flush(ctx)
	bare, bareErr := p1BareAsynq(ctx, e)

	var rows []row
	runRow := func(id, what string, r p1Run, err error, notes string) {
		if err != nil {
			rows = append(rows, failed(id, what, noGoal, err))
			return
		}
		rows = append(rows, reference(id, what, fmtRate(p1Invites, r.elapsed),
			fmt.Sprintf("%s; %s in %s; %s", notes, fmtInt(p1Invites), r.elapsed.Round(time.Millisecond), r.note)))
	}
	runRow("P1a", "mxinvite worker throughput (invites/s)", mx, mxErr, params)
	runRow("P1l", "mxinvite worker, --lookup off (invites/s)", direct, directErr,
		params+"; resolve-first off (worker.Config.NoLookup): one request per invite, as the naive handler's; "+
			"CPU per invite "+cpuPerInvite(direct))
	runRow("P1n", "naive handler: asynq + POST + HSET (invites/s)", naive, naiveErr,
		fmt.Sprintf("same %s invites, concurrency %d, same simulator config and Redis; the handler decodes the payload, POSTs "+
			"/_matrix/client/v3/rooms/{roomId}/invite with net/http's default transport (as mxinvite's matrix client) and HSETs "+
			"the HTTP status; no retries, no record, no counters", fmtInt(p1Invites), p1Concurrency))
	runRow("P1s", "naive handler with an in-flight mark (invites/s)", marked, markedErr,
		"as P1n, plus an HSET marking the invite in flight before the POST: the least a handler needs that never resends an "+
			"invite whose outcome it cannot know (a crash mid-request must be known as one), one Redis round trip more per invite")
	runRow("P1b", "bare asynq server, no-op handler (tasks/s)", bare, bareErr,
		fmt.Sprintf("same %s tasks (invite payloads), concurrency %d, same Redis", fmtInt(p1Invites), p1Concurrency))
	rows = append(rows,
		ratioRow("P1c", "P1 ratio: mxinvite ÷ bare asynq", p1Goal, mx, mxErr, bare, bareErr, "P1a ÷ P1b (the no-op handler is a limit, not a peer)"),
		ratioRow("P1d", "P1n ratio: mxinvite ÷ naive handler", p1NaiveGoal, mx, mxErr, naive, naiveErr, "P1a ÷ P1n"),
		ratioRow("P1e", "P1n ratio: mxinvite --lookup off ÷ naive handler", p1NaiveGoal, direct, directErr, naive, naiveErr,
			"P1l ÷ P1n: what P1d is without resolve-first's lookup request (issue 25), the same work per invite as the naive handler "+
				"plus mxinvite's record, gate and counters"),
		ratioRef("P1f", "P1s ratio: mxinvite --lookup off ÷ naive handler with an in-flight mark", direct, directErr, marked, markedErr,
			"P1l ÷ P1s: how much of P1e's gap the round trip before the request explains (the in-flight mark that never resending "+
				"needs, mxinvite's begin): P1s ÷ P1n is what that mark alone costs a handler"),
		handlerCPURow(mx, mxErr, naive, naiveErr))
	rows = append(rows, redisCostRows(mx, mxErr, naive, naiveErr, bare, bareErr)...)
	rows = append(rows, memoryRows(mx, mxErr)...)
	return printed(rows...)
}

// ratioRef is a ÷ b of two P1 runs, a reference figure (no goal).
func ratioRef(id, what string, a p1Run, aErr error, b p1Run, bErr error, notes string) row {
	if err := firstErr(aErr, bErr); err != nil {
		return failed(id, what, noGoal, err)
	}
	return reference(id, what, fmt.Sprintf("%.2f", a.rate()/b.rate()), notes)
}

// ratioRow is a ÷ b of two P1 runs against a goal (≥).
func ratioRow(id, what string, goal float64, a p1Run, aErr error, b p1Run, bErr error, notes string) row {
	g := fmt.Sprintf("≥ %.2f", goal)
	if err := firstErr(aErr, bErr); err != nil {
		return failed(id, what, g, err)
	}
	ratio := a.rate() / b.rate()
	return row{id: id, what: what, measured: fmt.Sprintf("%.2f", ratio), goal: g, met: verdict(ratio >= goal), notes: notes}
}

// handlerCPURow is the worker's CPU per invite against the naive handler's
// (issue 26: at most as much), each read from a CPU profile of its run as
// the samples of the goroutines it started (the simulator's excluded).
func handlerCPURow(mx p1Run, mxErr error, naive p1Run, naiveErr error) row {
	const id, what, goal = "P1w", "worker CPU per invite (its goroutines, simulator excluded)", "≤ naive handler's"
	if err := firstErr(mxErr, naiveErr, mx.cpuErr, naive.cpuErr); err != nil {
		return failed(id, what, goal, err)
	}
	w, n := mx.cpu.Seconds()/p1Invites, naive.cpu.Seconds()/p1Invites
	return row{id: id, what: what, measured: fmt.Sprintf("%.0f µs (naive handler %.0f µs)", w*1e6, n*1e6), goal: goal,
		met: verdict(w <= n), notes: fmt.Sprintf("P1a's and P1n's CPU profiles: samples labelled bench=P1a / bench=P1n (pprof labels, "+
			"inherited by the goroutines the worker or asynq server starts: handlers, HTTP client, Redis pool) ÷ %s; ratio %.2f; "+
			"top entries under Profiles", fmtInt(p1Invites), w/n)}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// p1Worker times mxinvite's worker over p1Invites invites and checks that
// every one ended Success exactly once. It also reads Redis's memory before
// the invites are enqueued, once they are, and once they are finished.
// p1Worker runs P1a, or with noLookup P1l: the same run with resolve-first
// off (not profiled in the report: its CPU is in P1l's notes).
func p1Worker(ctx context.Context, e *env, noLookup bool) (p1Run, error) {
	var run p1Run
	label := "P1a"
	if noLookup {
		label = "P1l"
	}
	sim, err := startSim(ctx, simulator.Config{}, nil)
	if err != nil {
		return run, err
	}
	defer sim.stop()
	const prefix, queue, campaign = "p1", "p1", "p1"
	invs, err := makeInvites(p1Invites, campaign, nil)
	if err != nil {
		return run, err
	}
	run.mem.before = e.usedMemory(ctx)
	if err := enqueueInvites(ctx, e.rdb, prefix, queue, invs); err != nil {
		return run, fmt.Errorf("enqueue: %w", err)
	}
	run.mem.queued = e.usedMemory(ctx)
	run.mem.queuedParts = e.queuedParts(ctx, prefix, queue, campaign, invs)
	w, err := worker.New(worker.Config{
		Redis: e.redisOpt(),
		Profiles: []worker.Profile{{
			Name: tasks.DefaultSender, HomeserverURL: sim.url, AccessToken: simulator.DefaultAccessToken,
			IDServer: sim.host, IDAccessToken: simulator.DefaultIDAccessToken,
		}},
		Concurrency:    p1Concurrency,
		Queue:          queue,
		KeyPrefix:      prefix,
		IdentityScheme: "http",
		NoLookup:       noLookup,
	})
	if err != nil {
		return run, err
	}
	store := rdb.New(e.rdb, rdb.Options{Prefix: prefix}) // not the worker's: Shutdown closes that one

	prof := e.startInProcessProfile(label)
	u0 := e.sample(ctx)
	start := time.Now()
	prof.do(ctx, func(context.Context) { err = w.Start() })
	if err != nil {
		prof.stop()
		return run, err
	}
	// The clock stops when the last result is persisted: the campaign's
	// done counter, one HGETALL per poll (asynq's queue inspection costs
	// Redis far more, and would be measured with the worker).
	err = pollUntil(ctx, p1Limit, func() (bool, error) {
		c, err := store.Counts(ctx, campaign)
		return c.States[record.StateDone] >= p1Invites, err
	})
	run.elapsed = time.Since(start)
	run.work = e.since(ctx, u0)
	prof.stop()
	run.cpu, run.cpuErr = prof.labelledCPU(ctx)
	if !noLookup {
		for _, s := range prof.summaries(ctx, "P1a mxinvite worker", p1Invites, "invite") {
			e.profiles.add(s)
		}
	}
	if err == nil {
		err = waitIdle(ctx, e.rdb, queue, p1Limit) // asynq's own bookkeeping of the last tasks
	}
	w.Shutdown()
	if err != nil {
		return run, err
	}
	run.mem.finished = e.usedMemory(ctx)
	run.mem.finishedParts = e.finishedParts(ctx, prefix, campaign, invs)
	run.mem.stream = int64(e.keyBytes(ctx, prefix+":results"))
	c, err := store.Counts(ctx, campaign)
	if err != nil {
		return run, err
	}
	st := sim.sim.Stats()
	check := fmt.Sprintf("check: %d Success, %d accepted, %d duplicates", c.Statuses["Success"], st.Accepted, st.Duplicates)
	if c.Statuses["Success"] != p1Invites || st.Accepted != p1Invites {
		return run, fmt.Errorf("not every invite succeeded once (%s)", check)
	}
	run.note = check + "; " + run.work.per(p1Invites, run.elapsed, 0, "invite")
	fmt.Printf("   mxinvite worker (%s): %s invites in %s = %s (%s)\n", label, fmtInt(p1Invites), run.elapsed.Round(time.Millisecond),
		fmtRate(p1Invites, run.elapsed), run.note)
	fmt.Printf("      Redis commands per invite: %s\n", run.work.top(p1Invites, 16))
	return run, nil
}

// p1BareAsynq times an asynq server with a no-op handler over as many
// invite tasks, at the same concurrency and poll interval as the worker.
func p1BareAsynq(ctx context.Context, e *env) (p1Run, error) {
	run, err := p1Asynq(ctx, e, "p1bare", "", func(context.Context, *asynq.Task) error { return nil })
	if err == nil {
		fmt.Printf("   bare asynq:      %s tasks in %s = %s (%s)\n", fmtInt(p1Invites), run.elapsed.Round(time.Millisecond),
			fmtRate(p1Invites, run.elapsed), run.note)
		fmt.Printf("      Redis commands per task: %s\n", run.work.top(p1Invites, 16))
	}
	return run, err
}

// p1Asynq times a plain asynq server running handle over p1Invites invite
// tasks in queue, at the worker's concurrency and poll interval. The clock
// stops when the last handler call returns, the counterpart of mxinvite's
// last result being persisted.
func p1Asynq(ctx context.Context, e *env, queue, profile string, handle func(context.Context, *asynq.Task) error) (p1Run, error) {
	var run p1Run
	invs, err := makeInvites(p1Invites, "p1", nil)
	if err != nil {
		return run, err
	}
	client := asynq.NewClient(e.redisOpt())
	defer client.Close()
	if err := enqueueTasks(ctx, client, queue, invs); err != nil {
		return run, fmt.Errorf("enqueue: %w", err)
	}
	poll := worker.Config{}.WithDefaults().PollInterval
	srv := asynq.NewServer(e.redisOpt(), asynq.Config{
		Concurrency:              p1Concurrency,
		Queues:                   map[string]int{queue: 1},
		TaskCheckInterval:        poll,
		DelayedTaskCheckInterval: poll,
		LogLevel:                 asynq.ErrorLevel,
	})
	var handled, failures atomic.Int64
	allHandled := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeInvite3PID, func(ctx context.Context, t *asynq.Task) error {
		err := handle(ctx, t)
		if err != nil {
			failures.Add(1)
			return err
		}
		if handled.Add(1) == p1Invites {
			close(allHandled)
		}
		return nil
	})

	var prof *inProcessProfile
	if profile != "" {
		prof = e.startInProcessProfile(profile)
	}
	u0 := e.sample(ctx)
	start := time.Now()
	if prof != nil {
		prof.do(ctx, func(context.Context) { err = srv.Start(mux) })
	} else {
		err = srv.Start(mux)
	}
	if err != nil {
		if prof != nil {
			prof.stop()
		}
		return run, err
	}
	select {
	case <-allHandled:
	case <-time.After(p1Limit):
		err = fmt.Errorf("only %d of %d tasks handled after %s (%d handler errors)", handled.Load(), p1Invites, p1Limit, failures.Load())
	case <-ctx.Done():
		err = ctx.Err()
	}
	run.elapsed = time.Since(start)
	run.work = e.since(ctx, u0)
	if prof != nil {
		prof.stop()
		run.cpu, run.cpuErr = prof.labelledCPU(ctx)
	} else {
		run.cpuErr = errors.New("not profiled")
	}
	if err == nil {
		err = waitIdle(ctx, e.rdb, queue, p1Limit)
	}
	srv.Shutdown()
	if err != nil {
		return run, err
	}
	run.note = run.work.per(p1Invites, run.elapsed, 0, "task")
	if n := failures.Load(); n > 0 {
		run.note = fmt.Sprintf("%d handler errors (retried by asynq); %s", n, run.note)
	}
	return run, nil
}

// cpuPerInvite is a P1 run's CPU per invite from its profile, in words.
func cpuPerInvite(r p1Run) string {
	if r.cpuErr != nil {
		return "unknown (" + r.cpuErr.Error() + ")"
	}
	return fmt.Sprintf("%.0f µs", r.cpu.Seconds()/p1Invites*1e6)
}
