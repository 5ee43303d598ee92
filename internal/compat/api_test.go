package compat

// Every call the upgrade test makes into mxinvite's Go API is in this file
// (written against c7b0e37's worker.Store and worker.Producer, ported to
// internal/rdb, internal/record and internal/producer by issue 18 without
// changing what any function returns): when the API moves, port this file
// and nothing else. Two functions read or write a record's hash directly
// (recordProgress, corruptRecord): they name the key layout the data in
// testdata/snapshots was written in, which this release keeps.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	rec "github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/schedule"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// The key prefix and queue the snapshot was written with (the defaults).
const (
	prefix = "mxinvite"
	queue  = "invites"
)

// The invite states, as records and counters name them.
const (
	stateQueued    = string(rec.StateQueued)
	stateScheduled = string(rec.StateScheduled)
	stateActive    = string(rec.StateActive)
	stateRetrying  = string(rec.StateRetrying)
	statePaused    = string(rec.StatePaused)
	stateDone      = string(rec.StateDone)
	stateCancelled = string(rec.StateCancelled)
)

// record is what the test needs of one invite's record.
type record struct {
	Key, Campaign, RoomID, Address, Sender string
	Generation                             int
	State                                  string
	Status                                 string // final status name, "" until done
	StatusCode                             int
	Attempts, Requests                     int
	PossibleDuplicate                      bool
	FinishedAt                             time.Time

	// Progress fields, read from the hash (recordProgress).
	Inflight  bool      // a request was on the wire when its worker stopped
	Ambiguous int       // attempts whose outcome was unknown
	Retries   int       // retries taken
	NotBefore time.Time // not sent again before this
}

// counts are a campaign's counters.
type counts struct {
	Enqueued           int
	States, Statuses   map[string]int
	Requests           int
	PossibleDuplicates int
}

// pause is one pause of a sender or campaign.
type pause struct{ Scope, Name, Kind string }

// recurring is one recurring campaign of the schedule store.
type recurring struct{ Name, Cron, RoomID, Sender string }

func store(conn *redis.Client) *rdb.Client { return rdb.New(conn, rdb.Options{Prefix: prefix}) }

// campaignNames lists the campaigns, sorted.
func campaignNames(ctx context.Context, rdb *redis.Client) ([]string, error) {
	return store(rdb).Campaigns(ctx)
}

// campaignCounts reads one campaign's counters.
func campaignCounts(ctx context.Context, rdb *redis.Client, name string) (counts, error) {
	c, err := store(rdb).Counts(ctx, name)
	if err != nil {
		return counts{}, err
	}
	states := make(map[string]int, len(c.States))
	for s, n := range c.States {
		states[string(s)] = n
	}
	// Counts shows the active invites of a worker whose beat lapsed as
	// recovering (a snapshot from a release with worker liveness holds the
	// killed worker's); the stored counter, like their records, says active.
	if n := states[string(rec.StateRecovering)]; n > 0 {
		states[string(rec.StateActive)] += n
		delete(states, string(rec.StateRecovering))
	}
	return counts{Enqueued: c.Enqueued, States: states, Statuses: c.Statuses,
		Requests: c.Requests, PossibleDuplicates: c.PossibleDuplicates}, nil
}

// campaignRecords reads every record of a campaign, in enqueue order.
func campaignRecords(ctx context.Context, rdb *redis.Client, name string) ([]record, error) {
	var out []record
	err := store(rdb).Results(ctx, name, func(r rec.Result) error {
		out = append(out, record{Key: r.Key, Campaign: r.Campaign, RoomID: r.RoomID, Address: r.Address,
			Sender: r.Sender, Generation: r.Generation, State: string(r.State), Status: r.Status,
			StatusCode: int(r.StatusCode), Attempts: r.Attempts, Requests: r.Requests,
			PossibleDuplicate: r.PossibleDuplicate, FinishedAt: r.FinishedAt})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if err := recordProgress(ctx, rdb, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordProgress reads the progress fields no API returns, from the
// record's hash {prefix}:invite:{key} (internal/rdb/keys.go, record.go).
func recordProgress(ctx context.Context, rdb *redis.Client, r *record) error {
	v, err := rdb.HMGet(ctx, prefix+":invite:"+r.Key, "inflight", "ambiguous", "retries", "not_before_ms").Result()
	if err != nil {
		return fmt.Errorf("progress of invite %s: %w", r.Key, err)
	}
	str := func(i int) string { s, _ := v[i].(string); return s }
	num := func(i int) int { n, _ := strconv.Atoi(str(i)); return n }
	r.Inflight, r.Ambiguous, r.Retries = str(0) == "1", num(1), num(2)
	if ms, _ := strconv.ParseInt(str(3), 10, 64); ms > 0 {
		r.NotBefore = time.UnixMilli(ms)
	}
	return nil
}

// corruptRecord overwrites one field of a record's hash, as a broken
// writer (or a bad migration) would; for the test of the checker.
func corruptRecord(ctx context.Context, rdb *redis.Client, key, field, value string) error {
	return rdb.HSet(ctx, prefix+":invite:"+key, field, value).Err()
}

// pauses lists every pause.
func pauses(ctx context.Context, rdb *redis.Client) ([]pause, error) {
	ps, err := store(rdb).Pauses(ctx)
	out := make([]pause, 0, len(ps))
	for _, p := range ps {
		out = append(out, pause{Scope: string(p.Scope), Name: p.Name, Kind: p.Kind})
	}
	return out, err
}

// resumeCampaign ends a campaign's pause as `mxinvite resume --campaign`
// does; woken counts the tasks it made due.
func resumeCampaign(ctx context.Context, rdb *redis.Client, name string) (woken int, err error) {
	return producer.New(store(rdb), queue).Resume(ctx, rec.PauseCampaign, name)
}

// recurringCampaigns lists the schedule store's recurring campaigns,
// checking that each one's cron still parses.
func recurringCampaigns(ctx context.Context, rdb *redis.Client) ([]recurring, error) {
	cs, err := schedule.NewStore(store(rdb)).List(ctx)
	out := make([]recurring, 0, len(cs))
	for _, c := range cs {
		if _, err := c.Schedule(); err != nil {
			return nil, fmt.Errorf("recurring campaign %s: %w", c.Name, err)
		}
		out = append(out, recurring{Name: c.Name, Cron: c.Cron, RoomID: c.RoomID, Sender: c.Sender})
	}
	return out, err
}

// runScheduledNow makes every scheduled task of the queue due now (asynq's
// own API); it returns how many it moved.
func runScheduledNow(rdb *redis.Client) (int, error) {
	return asynq.NewInspectorFromRedisClient(rdb).RunAllScheduledTasks(queue)
}

// sender is a sender profile for the worker.
type sender struct{ Name, HomeserverURL, AccessToken, IDServer, IDAccessToken string }

// runWorkerUntilIdle runs today's worker on the Redis at addr until every
// invite is final (held nil) or the only ones left wait behind pauses (held
// lists them). It fails if ctx ends first.
func runWorkerUntilIdle(ctx context.Context, addr string, senders []sender) (held []pause, err error) {
	cfg := worker.Config{
		Redis:          asynq.RedisClientOpt{Addr: addr},
		Concurrency:    4,
		IdentityScheme: "http",
	}
	for _, s := range senders {
		cfg.Profiles = append(cfg.Profiles, worker.Profile{Name: s.Name, HomeserverURL: s.HomeserverURL,
			AccessToken: s.AccessToken, IDServer: s.IDServer, IDAccessToken: s.IDAccessToken})
	}
	w, err := worker.New(cfg)
	if err != nil {
		return nil, err
	}
	err = w.Run(ctx, true)
	if ctx.Err() != nil { // Run returns nil when ctx ends: that is not idle
		return nil, fmt.Errorf("the worker was not idle in time: %w", ctx.Err())
	}
	var h *rec.HeldError
	if errors.As(err, &h) {
		for _, p := range h.Pauses {
			held = append(held, pause{Scope: string(p.Scope), Name: p.Name, Kind: p.Kind})
		}
		return held, nil
	}
	return nil, err
}

// enqueueInvites registers and enqueues invites of campaign (again: also
// finished ones, as a new generation) into the room of the snapshot's
// campaigns, for the default sender.
func enqueueInvites(ctx context.Context, rdb *redis.Client, campaign string, again bool, addresses ...string) error {
	items := make([]producer.Item, len(addresses))
	for i, a := range addresses {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail,
			Address: a, EnqueuedAt: time.Now().UTC()})
		if err != nil {
			return err
		}
		items[i] = producer.Item{Invite: inv}
	}
	verdicts, err := producer.New(store(rdb), queue).EnqueueBatch(ctx, items, producer.Options{Again: again})
	for i, v := range verdicts {
		if err == nil && v != rec.Registered {
			err = fmt.Errorf("invite of %s: verdict %v", addresses[i], v)
		}
	}
	return err
}

// purgeCampaign purges a campaign's finished invites; deleted reports
// whether the campaign went with them.
func purgeCampaign(ctx context.Context, rdb *redis.Client, name string) (deleted bool, err error) {
	st, err := store(rdb).Purge(ctx, queue, rec.PurgeOptions{Campaign: name})
	return len(st.CampaignsDeleted) == 1, err
}

// indexKeys are the keys of a campaign's index: the sorted set earlier
// releases wrote and the list of this one (internal/rdb/index.go).
func indexKeys(name string) []string {
	return []string{prefix + ":campaign:" + name + ":invites", prefix + ":campaign:" + name + ":order"}
}

// listLength is the length of a campaign's list (indexKeys).
func listLength(ctx context.Context, rdb *redis.Client, name string) (int64, error) {
	return rdb.LLen(ctx, indexKeys(name)[1]).Result()
}
