package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/worker"
)

// P4 parameters.
const (
	// p4Senders is the number of sender profiles, of invites (one each) and
	// the worker's concurrency: every invite has a gate of its own, so what
	// is measured is the precision of the wait, not the gate's queue.
	p4Senders  = 500
	p4AdviceLo = 100 * time.Millisecond
	p4AdviceHi = 500 * time.Millisecond
	p4Limit    = 30 * time.Second
	p4Campaign = "p4"

	p4P50Goal = 50 * time.Millisecond
	p4P99Goal = time.Second
)

// p4Warmup is the campaign whose invites (one per sender, answered at
// once) start the senders' lane servers before P4a/P4b are measured.
const p4Warmup = "p4warm"

// runP4 answers every invite's first request with a 429 advising a random
// 100–500 ms, and measures how late the retry arrives after that advice.
func runP4(ctx context.Context, e *env) []row {
	const p50What, p99What = "P4 retry lateness after a 429, p50", "P4 retry lateness after a 429, p99"
	const coldWhat = "P4 retry lateness after a 429 while the lanes' servers start, p50"
	p50Goal, p99Goal := "≤ 50 ms", "≤ 1 s" // p4P50Goal, p4P99Goal
	params := fmt.Sprintf("%d sender profiles (distinct simulator users and tokens), one invite each, one in-process worker at concurrency %d; "+
		"each address's first request answered 429 M_LIMIT_EXCEEDED with retry_after_ms uniform in %d–%d ms (and Retry-After)",
		p4Senders, p4Senders, p4AdviceLo.Milliseconds(), p4AdviceHi.Milliseconds())
	var rows []row
	for _, warm := range []bool{true, false} {
		late, note, err := p4Measure(ctx, e, warm)
		if err == nil && len(late) == 0 {
			err = fmt.Errorf("no retry was seen (%s)", note)
		}
		if err != nil {
			if warm {
				rows = append(rows, failed("P4a", p50What, p50Goal, err), failed("P4b", p99What, p99Goal, err))
			} else {
				rows = append(rows, failed("P4c", coldWhat, p50Goal, err))
			}
			continue
		}
		slices.Sort(late)
		p50, p99 := percentile(late, 50), percentile(late, 99)
		fmt.Printf("   %d retries (warm %v): lateness min %s, p50 %s, p99 %s, max %s; %s\n", len(late), warm, fmtMs(late[0]), fmtMs(p50),
			fmtMs(p99), fmtMs(late[len(late)-1]), note)
		spread := fmt.Sprintf("%d retries, min %s, max %s; %s", len(late), fmtMs(late[0]), fmtMs(late[len(late)-1]), note)
		if !warm {
			rows = append(rows, row{id: "P4c", what: coldWhat, measured: fmtMs(p50), goal: p50Goal, met: verdict(p50 <= p4P50Goal),
				notes: "as P4a, but the worker starts with the invites queued: all 500 senders' lane servers (internal/lanes) start " +
					"inside the measured window, and their first Redis work (asynq's heartbeat, forwarder, recoverer, " +
					"subscriber connection) delays the retries; p99 " + fmtMs(p99) + "; " + spread})
			continue
		}
		rows = append(rows,
			row{id: "P4a", what: p50What, measured: fmtMs(p50), goal: p50Goal, met: verdict(p50 <= p4P50Goal),
				notes: params + "; the senders' lane servers already run (a first invite per sender went through before): " + spread},
			row{id: "P4b", what: p99What, measured: fmtMs(p99), goal: p99Goal, met: verdict(p99 <= p4P99Goal),
				notes: "same run as P4a"},
		)
	}
	return printed(rows...)
}

// p4Measure runs the invites through the 429 middleware and returns the
// lateness of every retry. warm: each sender's lane server is started first
// by an invite of its own that the middleware lets through, so what is
// measured is the waits, not the start of 500 asynq servers (P4c).
func p4Measure(ctx context.Context, e *env, warm bool) ([]time.Duration, string, error) {
	if err := e.flush(ctx); err != nil {
		return nil, "", err
	}
	cfg, tokens := p4SimConfig()
	mw := newFirst429(p4AdviceLo, p4AdviceHi)
	sim, err := startSim(ctx, cfg, mw.wrap)
	if err != nil {
		return nil, "", err
	}
	defer sim.stop()
	profiles := make([]worker.Profile, p4Senders)
	for i := range profiles {
		profiles[i] = worker.Profile{Name: p4Sender(i), HomeserverURL: sim.url, AccessToken: tokens[i],
			IDServer: sim.host, IDAccessToken: simulator.DefaultIDAccessToken}
	}
	const prefix, queue = "p4", "p4"
	invs, err := makeInvites(p4Senders, p4Campaign, p4Sender)
	if err != nil {
		return nil, "", err
	}
	first := invs
	if warm {
		if first, err = makeInvitesFrom(p4Senders, p4Senders, p4Warmup, p4Sender); err != nil {
			return nil, "", err
		}
		mw.pass.Store(true)
	}
	if err := enqueueInvites(ctx, e.rdb, prefix, queue, first); err != nil {
		return nil, "", fmt.Errorf("enqueue: %w", err)
	}
	w, err := worker.New(worker.Config{
		Redis: e.redisOpt(), Profiles: profiles, Concurrency: p4Senders,
		Queue: queue, KeyPrefix: prefix, IdentityScheme: "http",
	})
	if err != nil {
		return nil, "", err
	}
	if err := w.Start(); err != nil {
		return nil, "", err
	}
	if warm {
		if err = waitIdle(ctx, e.rdb, queue, p4Limit); err == nil {
			mw.pass.Store(false)
			err = enqueueInvites(ctx, e.rdb, prefix, queue, invs)
		}
	}
	if err == nil {
		err = waitIdle(ctx, e.rdb, queue, p4Limit)
	}
	w.Shutdown()
	if err != nil {
		return nil, "", err
	}
	counts, err := rdb.New(e.rdb, rdb.Options{Prefix: prefix}).Counts(ctx, p4Campaign)
	if err != nil {
		return nil, "", err
	}
	late, early, extra := mw.lateness()
	note := fmt.Sprintf("check: %d Success, %d early retries, %d requests after the retry", counts.Statuses["Success"], early, extra)
	return late, note, nil
}

// p4Sender is the profile name of sender i.
func p4Sender(i int) string { return fmt.Sprintf("bench%d", i) }

// p4SimConfig is a simulator with one user per sender, all joined to the
// default room with the power to invite, and no rate limit of its own.
func p4SimConfig() (simulator.Config, []string) {
	room := simulator.DefaultRoom()
	users := make([]simulator.User, p4Senders)
	tokens := make([]string, p4Senders)
	for i := range users {
		tokens[i] = fmt.Sprintf("bench-token-%d", i)
		users[i] = simulator.User{AccessToken: tokens[i], UserID: fmt.Sprintf("@bench%d:%s", i, simulator.DefaultServerName)}
		room.Members[users[i].UserID] = "join"
		room.PowerLevels[users[i].UserID] = 100
	}
	return simulator.Config{Users: users, Rooms: []simulator.Room{room}}, tokens
}

// percentile is the nearest-rank percentile of sorted values.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n), 1-based
	return sorted[max(rank, 1)-1]
}
