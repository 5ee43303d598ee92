package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// Issue 22: fair turns between senders and between a sender's campaigns.
const (
	i22Limit       = 2 * time.Minute
	i22SenderGoal  = 5 * time.Second
	i22NormalGoal  = 20 * time.Second
	i22HighGoal    = 5 * time.Second
	i22Concurrency = 10
)

// runI22 measures: one worker, two senders, sender a's 300 (limited to a
// burst of 5 then 2/s) queued before sender b's 10 (no limit): b's time
// from the worker's start (I22a); one sender at a burst of 5 then 4/s,
// campaign bulk (400) going out when urgent (10) is enqueued: urgent's time
// from its enqueue, without a priority (I22b) and with high (I22c).
func runI22(ctx context.Context, e *env) []row {
	rows := []row{runI22a(ctx, e)}
	_ = e.flush(ctx)
	rows = append(rows, runI22b(ctx, e, "i22normal", "I22b", "", i22NormalGoal))
	_ = e.flush(ctx)
	return printed(append(rows, runI22b(ctx, e, "i22high", "I22c", tasks.PriorityHigh, i22HighGoal))...)
}

// i22Enqueue enqueues n invites of campaign for sender under name's prefix
// and queue.
func i22Enqueue(ctx context.Context, e *env, name, sender, campaign string, n int, prio tasks.Priority) error {
	p := producer.New(rdb.New(e.rdb, rdb.Options{Prefix: name}), name)
	var items []producer.Item
	for i := range n {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, Sender: sender, RoomID: simulator.DefaultRoomID,
			Medium: tasks.MediumEmail, Address: fmt.Sprintf("%s%d@example.org", campaign, i)})
		if err != nil {
			return err
		}
		items = append(items, producer.Item{Invite: inv})
	}
	_, err := p.EnqueueBatch(ctx, items, producer.Options{Priority: prio})
	return err
}

func i22Profile(name string, sim *simServer) worker.Profile {
	return worker.Profile{Name: name, HomeserverURL: sim.url, AccessToken: simulator.DefaultAccessToken,
		IDServer: sim.host, IDAccessToken: simulator.DefaultIDAccessToken}
}

// i22Wait waits until campaign has n final invites and returns them.
func i22Wait(ctx context.Context, store *rdb.Client, campaign string, n int) (record.CampaignCounts, error) {
	var c record.CampaignCounts
	err := pollUntil(ctx, i22Limit, func() (bool, error) {
		var err error
		c, err = store.Counts(ctx, campaign)
		return c.States[record.StateDone] >= n, err
	})
	return c, err
}

func runI22a(ctx context.Context, e *env) row {
	const name, what = "i22senders", "I22a sender b's 10 beside sender a's 300 (a limited to 2/s, queued first): time to all final"
	goal := fmt.Sprintf("≤ %s", i22SenderGoal)
	simA, err := startSim(ctx, simulator.Config{RateLimit: simulator.RateLimit{Burst: 5, PerSecond: 2}}, nil)
	if err != nil {
		return failed("I22a", what, goal, err)
	}
	defer simA.stop()
	simB, err := startSim(ctx, simulator.Config{}, nil)
	if err != nil {
		return failed("I22a", what, goal, err)
	}
	defer simB.stop()
	if err := i22Enqueue(ctx, e, name, "a", "a-bulk", 300, ""); err != nil {
		return failed("I22a", what, goal, err)
	}
	if err := i22Enqueue(ctx, e, name, "b", "b-small", 10, ""); err != nil {
		return failed("I22a", what, goal, err)
	}
	w, err := worker.New(worker.Config{Logger: benchLogger(name), Redis: e.redisOpt(), Concurrency: i22Concurrency, Queue: name,
		KeyPrefix: name, IdentityScheme: "http", Profiles: []worker.Profile{i22Profile("a", simA), i22Profile("b", simB)}})
	if err != nil {
		return failed("I22a", what, goal, err)
	}
	start := time.Now()
	if err := w.Start(); err != nil {
		return failed("I22a", what, goal, err)
	}
	defer w.Shutdown()
	store := rdb.New(e.rdb, rdb.Options{Prefix: name})
	c, err := i22Wait(ctx, store, "b-small", 10)
	took := time.Since(start)
	if err != nil {
		return failed("I22a", what, goal, err)
	}
	a, _ := store.Counts(ctx, "a-bulk")
	return row{id: "I22a", what: what, measured: fmt.Sprintf("%.2f s", took.Seconds()), goal: goal,
		met: verdict(took <= i22SenderGoal && c.Statuses["Success"] == 10),
		notes: fmt.Sprintf("one in-process worker, concurrency %d per sender; b: %v; a had %d of 300 final by then (at 2/s all 300 take 150 s)",
			i22Concurrency, c.Statuses, a.States[record.StateDone])}
}

func runI22b(ctx context.Context, e *env, name, id string, prio tasks.Priority, goalD time.Duration) row {
	label := string(prio)
	if label == "" {
		label = "no priority"
	}
	what := fmt.Sprintf("%s urgent's 10 (%s) enqueued while bulk's 400 go out at 4/s: time to all final", id, label)
	goal := fmt.Sprintf("≤ %s", goalD)
	sim, err := startSim(ctx, simulator.Config{RateLimit: simulator.RateLimit{Burst: 5, PerSecond: 4}}, nil)
	if err != nil {
		return failed(id, what, goal, err)
	}
	defer sim.stop()
	if err := i22Enqueue(ctx, e, name, tasks.DefaultSender, "bulk", 400, ""); err != nil {
		return failed(id, what, goal, err)
	}
	w, err := worker.New(worker.Config{Logger: benchLogger(name), Redis: e.redisOpt(), Concurrency: i22Concurrency, Queue: name,
		KeyPrefix: name, IdentityScheme: "http", Profiles: []worker.Profile{i22Profile(tasks.DefaultSender, sim)}})
	if err != nil {
		return failed(id, what, goal, err)
	}
	if err := w.Start(); err != nil {
		return failed(id, what, goal, err)
	}
	defer w.Shutdown()
	store := rdb.New(e.rdb, rdb.Options{Prefix: name})
	if _, err := i22Wait(ctx, store, "bulk", 12); err != nil { // bulk is going out at the limit's pace
		return failed(id, what, goal, err)
	}
	before, _ := store.Counts(ctx, "bulk")
	start := time.Now()
	if err := i22Enqueue(ctx, e, name, tasks.DefaultSender, "urgent", 10, prio); err != nil {
		return failed(id, what, goal, err)
	}
	c, err := i22Wait(ctx, store, "urgent", 10)
	took := time.Since(start)
	if err != nil {
		return failed(id, what, goal, err)
	}
	after, _ := store.Counts(ctx, "bulk")
	return row{id: id, what: what, measured: fmt.Sprintf("%.2f s", took.Seconds()), goal: goal,
		met: verdict(took <= goalD && c.Statuses["Success"] == 10),
		notes: fmt.Sprintf("one in-process worker, concurrency %d; urgent: %v; %d of bulk final meanwhile (in flight when urgent came: up to %d)",
			i22Concurrency, c.Statuses, after.States[record.StateDone]-before.States[record.StateDone], i22Concurrency)}
}
