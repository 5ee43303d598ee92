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

// Issue 25: resolve-first. A half-bound list against Synapse's default
// limits (scaled): its bound half goes by Matrix ID (rc_invites) beside
// the 3PID half (rc_third_party_invite), so the whole list should take
// about as long as its 3PID half alone, not as long as all of it by 3PID.
const (
	i25Half      = 40
	i25Scale     = 1000 // rc_third_party_invite: burst 5, then 2.5/s
	i25RatioGoal = 1.25
	i25Limit     = 2 * time.Minute
)

// runI25: the 3PID half alone, the whole half-bound list with
// resolve-first, and the whole list with --lookup off.
func runI25(ctx context.Context, e *env) []row {
	const what = "I25 half-bound list with resolve-first ÷ its 3PID half alone"
	goal := fmt.Sprintf("≤ %.2f", i25RatioGoal)
	unbound, bound := plainAddresses("guest", i25Half), plainAddresses("member", i25Half)
	var bindings []simulator.Binding
	for i, a := range bound {
		bindings = append(bindings, simulator.Binding{Address: a, UserID: fmt.Sprintf("@member%d:sim.local", i)})
	}
	cfg := simulator.Config{Bindings: bindings, RateLimit: simulator.SynapseDefaultRateLimit(i25Scale),
		InviteLimits: simulator.SynapseDefaultInviteLimits(i25Scale)}
	alone, _, _, err := i25Run(ctx, e, cfg, "i25alone", unbound, false)
	if err != nil {
		return printed(failed("I25", what, goal, err))
	}
	_ = e.flush(ctx)
	all := append(append([]string{}, bound...), unbound...)
	// Interleaved, as a real list would be.
	for i := range i25Half {
		all[2*i], all[2*i+1] = bound[i], unbound[i]
	}
	mixed, counts, st, err := i25Run(ctx, e, cfg, "i25mixed", all, false)
	if err != nil {
		return printed(failed("I25", what, goal, err))
	}
	_ = e.flush(ctx)
	off, _, _, err := i25Run(ctx, e, cfg, "i25off", all, true)
	if err != nil {
		return printed(failed("I25", what, goal, err))
	}
	ratio := mixed.Seconds() / alone.Seconds()
	return printed(row{id: "I25", what: what,
		measured: fmt.Sprintf("%.2f (%s ÷ %s)", ratio, mixed.Round(time.Millisecond), alone.Round(time.Millisecond)),
		goal:     goal,
		met:      verdict(ratio <= i25RatioGoal && counts.Deliveries[record.DeliveryUserID] == i25Half && st.Accepted == i25Half),
		notes: fmt.Sprintf("%d bound + %d unbound addresses, Synapse's default limits ×%d (rc_third_party_invite burst 5 then %.1f/s; rc_invites per issuer %.0f/s); "+
			"%d invites by Matrix ID, %d emails, 429s by scope %v; the same list with --lookup off took %s (%.2f× the 3PID half)",
			i25Half, i25Half, i25Scale, simulator.SynapseDefaultPerSecond*i25Scale, simulator.SynapseInvitesPerIssuerPerSecond*i25Scale,
			st.MatrixIDInvites, st.Accepted, st.RateLimitedByScope, off.Round(time.Millisecond), off.Seconds()/alone.Seconds())})
}

// i25Run runs one in-process worker over addresses against a fresh
// simulator until all are final; it returns the time that took.
func i25Run(ctx context.Context, e *env, cfg simulator.Config, name string, addresses []string, noLookup bool) (time.Duration, record.CampaignCounts, simulator.Stats, error) {
	var none simulator.Stats
	sim, err := startSim(ctx, cfg, nil)
	if err != nil {
		return 0, record.CampaignCounts{}, none, err
	}
	defer sim.stop()
	store := rdb.New(e.rdb, rdb.Options{Prefix: name})
	items := make([]producer.Item, 0, len(addresses))
	for _, a := range addresses {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: name, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: a})
		if err != nil {
			return 0, record.CampaignCounts{}, none, err
		}
		items = append(items, producer.Item{Invite: inv})
	}
	if _, err := producer.New(store, name).EnqueueBatch(ctx, items, producer.Options{}); err != nil {
		return 0, record.CampaignCounts{}, none, err
	}
	w, err := worker.New(worker.Config{
		Logger: benchLogger(name), NoLookup: noLookup, TrackEvery: worker.Off,
		Redis: e.redisOpt(), Concurrency: 10, Queue: name, KeyPrefix: name, IdentityScheme: "http", Policy: i20Policy,
		Profiles: []worker.Profile{{Name: tasks.DefaultSender, HomeserverURL: sim.url, AccessToken: simulator.DefaultAccessToken,
			IDServer: sim.host, IDAccessToken: simulator.DefaultIDAccessToken}},
	})
	if err != nil {
		return 0, record.CampaignCounts{}, none, err
	}
	start := time.Now()
	if err := w.Start(); err != nil {
		return 0, record.CampaignCounts{}, none, err
	}
	defer w.Shutdown()
	var counts record.CampaignCounts
	err = pollUntil(ctx, i25Limit, func() (bool, error) {
		c, err := store.Counts(ctx, name)
		counts = c
		return c.States[record.StateDone] >= len(addresses), err
	})
	return time.Since(start), counts, sim.sim.Stats(), err
}
