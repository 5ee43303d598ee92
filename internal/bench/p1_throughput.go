package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

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
)

// runP1 compares mxinvite's worker (in process, against the simulator with
// no limit and no latency) with a bare asynq server whose handler does
// nothing, on the same Redis, same task count and concurrency.
func runP1(ctx context.Context, e *env) []row {
	const ratioWhat = "P1 ratio: mxinvite ÷ bare asynq"
	goal := fmt.Sprintf("≥ %.2f", p1Goal)
	params := fmt.Sprintf("%s invites, concurrency %d, one in-process worker, simulator in the same process (no limit, no latency)",
		fmtInt(p1Invites), p1Concurrency)

	mx, mxNote, err := p1Worker(ctx, e)
	if err != nil {
		return printed(failed("P1a", "mxinvite worker throughput (invites/s)", noGoal, err), failed("P1c", ratioWhat, goal, err))
	}
	_ = e.flush(ctx)
	bare, bareNote, err := p1BareAsynq(ctx, e)
	if err != nil {
		return printed(
			reference("P1a", "mxinvite worker throughput (invites/s)", fmtRate(p1Invites, mx), params+"; "+mxNote),
			failed("P1b", "bare asynq server, no-op handler (tasks/s)", noGoal, err),
			failed("P1c", ratioWhat, goal, err))
	}
	ratio := rate(p1Invites, mx) / rate(p1Invites, bare)
	return printed(
		reference("P1a", "mxinvite worker throughput (invites/s)", fmtRate(p1Invites, mx),
			fmt.Sprintf("%s; %s in %s; %s", params, fmtInt(p1Invites), mx.Round(time.Millisecond), mxNote)),
		reference("P1b", "bare asynq server, no-op handler (tasks/s)", fmtRate(p1Invites, bare),
			fmt.Sprintf("same %s tasks (invite payloads), concurrency %d, same Redis; %s; %s", fmtInt(p1Invites), p1Concurrency,
				bare.Round(time.Millisecond), bareNote)),
		row{id: "P1c", what: ratioWhat, measured: fmt.Sprintf("%.2f", ratio), goal: goal, met: verdict(ratio >= p1Goal),
			notes: "P1a ÷ P1b"},
	)
}

// p1Worker times mxinvite's worker over p1Invites invites and checks that
// every one ended Success exactly once.
func p1Worker(ctx context.Context, e *env) (time.Duration, string, error) {
	sim, err := startSim(ctx, simulator.Config{}, nil)
	if err != nil {
		return 0, "", err
	}
	defer sim.stop()
	const prefix, queue, campaign = "p1", "p1", "p1"
	invs, err := makeInvites(p1Invites, campaign, nil)
	if err != nil {
		return 0, "", err
	}
	if err := enqueueInvites(ctx, e.rdb, prefix, queue, invs); err != nil {
		return 0, "", fmt.Errorf("enqueue: %w", err)
	}
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
	})
	if err != nil {
		return 0, "", err
	}
	store := worker.NewStore(e.rdb, prefix, 0) // not the worker's: Shutdown closes that one
	in := asynq.NewInspector(e.redisOpt())
	defer in.Close()

	u0 := e.sample(ctx)
	start := time.Now()
	if err := w.Start(); err != nil {
		return 0, "", err
	}
	// The clock stops when the last result is persisted: the campaign's
	// done counter, one HGETALL per poll (asynq's queue inspection costs
	// Redis far more, and would be measured with the worker).
	err = pollUntil(ctx, p1Limit, func() (bool, error) {
		c, err := store.Counts(ctx, campaign)
		return c.States[worker.StateDone] >= p1Invites, err
	})
	elapsed := time.Since(start)
	work := e.since(ctx, u0)
	if err == nil {
		err = waitIdle(ctx, in, queue, p1Limit) // asynq's own bookkeeping of the last tasks
	}
	w.Shutdown()
	if err != nil {
		return 0, "", err
	}
	c, err := store.Counts(ctx, campaign)
	if err != nil {
		return 0, "", err
	}
	st := sim.sim.Stats()
	check := fmt.Sprintf("check: %d Success, %d accepted, %d duplicates", c.Statuses["Success"], st.Accepted, st.Duplicates)
	if c.Statuses["Success"] != p1Invites || st.Accepted != p1Invites {
		return 0, "", fmt.Errorf("not every invite succeeded once (%s)", check)
	}
	note := check + "; " + work.per(p1Invites, elapsed, 0, "invite")
	fmt.Printf("   mxinvite worker: %s invites in %s = %s (%s)\n", fmtInt(p1Invites), elapsed.Round(time.Millisecond),
		fmtRate(p1Invites, elapsed), note)
	fmt.Printf("      Redis commands per invite: %s\n", work.top(p1Invites, 12))
	return elapsed, note, nil
}

// p1BareAsynq times an asynq server with a no-op handler over as many
// invite tasks, at the same concurrency and poll interval as the worker.
func p1BareAsynq(ctx context.Context, e *env) (time.Duration, string, error) {
	const queue = "p1bare"
	invs, err := makeInvites(p1Invites, "p1", nil)
	if err != nil {
		return 0, "", err
	}
	client := asynq.NewClient(e.redisOpt())
	defer client.Close()
	if err := enqueueTasks(ctx, client, queue, invs); err != nil {
		return 0, "", fmt.Errorf("enqueue: %w", err)
	}
	poll := worker.Config{}.WithDefaults().PollInterval
	srv := asynq.NewServer(e.redisOpt(), asynq.Config{
		Concurrency:              p1Concurrency,
		Queues:                   map[string]int{queue: 1},
		TaskCheckInterval:        poll,
		DelayedTaskCheckInterval: poll,
		LogLevel:                 asynq.ErrorLevel,
	})
	// The clock stops when the last handler call returns, the counterpart
	// of mxinvite's last result being persisted.
	var handled atomic.Int64
	allHandled := make(chan struct{})
	mux := asynq.NewServeMux()
	mux.HandleFunc(tasks.TypeInvite3PID, func(context.Context, *asynq.Task) error {
		if handled.Add(1) == p1Invites {
			close(allHandled)
		}
		return nil
	})
	in := asynq.NewInspector(e.redisOpt())
	defer in.Close()

	u0 := e.sample(ctx)
	start := time.Now()
	if err := srv.Start(mux); err != nil {
		return 0, "", err
	}
	select {
	case <-allHandled:
	case <-time.After(p1Limit):
		err = fmt.Errorf("only %d of %d tasks handled after %s", handled.Load(), p1Invites, p1Limit)
	case <-ctx.Done():
		err = ctx.Err()
	}
	elapsed := time.Since(start)
	work := e.since(ctx, u0)
	if err == nil {
		err = waitIdle(ctx, in, queue, p1Limit)
	}
	srv.Shutdown()
	if err != nil {
		return 0, "", err
	}
	note := work.per(p1Invites, elapsed, 0, "task")
	fmt.Printf("   bare asynq:      %s tasks in %s = %s (%s)\n", fmtInt(p1Invites), elapsed.Round(time.Millisecond),
		fmtRate(p1Invites, elapsed), note)
	fmt.Printf("      Redis commands per task: %s\n", work.top(p1Invites, 12))
	return elapsed, note, nil
}
