package dashboard

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// testEnv is a real Redis, a simulator and the worker pieces a test drives.
type testEnv struct {
	t      *testing.T
	redis  *redistest.Server
	rdb    *redis.Client
	prefix string
	simURL string
	idSrv  string
	store  *rdb.Client
	sim    *simulator.Server
}

func newTestEnv(t *testing.T, cfg simulator.Config) *testEnv {
	t.Helper()
	r := redistest.Start(t)
	sim, ts := simtest.NewServer(t, cfg)
	e := &testEnv{t: t, redis: r, rdb: r.Client(t), prefix: redistest.Unique(t, "mx"), simURL: ts.URL, idSrv: simtest.IDServer(ts), sim: sim}
	e.store = rdb.New(e.rdb, rdb.Options{Prefix: e.prefix})
	return e
}

// enqueue registers and enqueues one invite per address on queue, at
// processAt (zero: now).
func (e *testEnv) enqueue(campaign, queue string, addrs []string, processAt time.Time) {
	e.t.Helper()
	prod := producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}), queue)
	items := make([]producer.Item, 0, len(addrs))
	for _, a := range addrs {
		inv, err := tasks.NewInvite(tasks.Invite{
			Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: a, IDServer: e.idSrv,
		})
		if err != nil {
			e.t.Fatalf("NewInvite(%q): %v", a, err)
		}
		items = append(items, producer.Item{Invite: inv})
	}
	if _, err := prod.EnqueueBatch(context.Background(), items, producer.Options{ProcessAt: processAt}); err != nil {
		e.t.Fatalf("EnqueueBatch: %v", err)
	}
}

// startWorker runs a worker on queue until the test ends.
func (e *testEnv) startWorker(queue string) {
	e.t.Helper()
	w, err := worker.New(worker.Config{
		Redis: asynq.RedisClientOpt{Addr: e.redis.Addr},
		Profiles: []worker.Profile{{
			Name: tasks.DefaultSender, HomeserverURL: e.simURL, AccessToken: simulator.DefaultAccessToken,
			IDServer: e.idSrv, IDAccessToken: simulator.DefaultIDAccessToken,
		}},
		Policy: matrix.RetryPolicy{
			Timeouts: []time.Duration{5 * time.Second},
			Waits:    []time.Duration{100 * time.Millisecond}, MaxRetries: 2,
		},
		Concurrency: 4, Queue: queue, KeyPrefix: e.prefix, PollInterval: 50 * time.Millisecond,
		IdentityScheme: "http",
	})
	if err != nil {
		e.t.Fatalf("worker.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx, false); close(done) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

func (e *testEnv) counts(campaign string) record.CampaignCounts {
	e.t.Helper()
	c, err := e.store.Counts(context.Background(), campaign)
	if err != nil {
		e.t.Fatalf("Counts(%s): %v", campaign, err)
	}
	return c
}

// waitCounts polls the campaign's counters until ok accepts them, failing
// after limit.
func (e *testEnv) waitCounts(campaign string, limit time.Duration, ok func(record.CampaignCounts) bool) record.CampaignCounts {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c := e.counts(campaign)
		if ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("campaign %s: counts %+v not reached within %s", campaign, c, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pausingSource fakes what the worker package does not have yet: a pause
// holding a campaign, and Resume. Resume lifts the fake pause and calls
// onResume (which starts the worker that serves the campaign's queue, so
// the held invites really go out only after the button is pressed).
type pausingSource struct {
	Source
	mu       sync.Mutex
	pauses   map[string]*Pause // by campaign
	onResume func(scope, name string)
}

func (p *pausingSource) pauseOf(campaign string) *Pause {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pauses[campaign]
}

func (p *pausingSource) Campaigns(ctx context.Context) ([]Campaign, error) {
	cs, err := p.Source.Campaigns(ctx)
	for i := range cs {
		if pz := p.pauseOf(cs[i].Name); pz != nil {
			cs[i].Pause, cs[i].ETASeconds = pz, nil
		}
	}
	return cs, err
}

func (p *pausingSource) Campaign(ctx context.Context, name string) (Campaign, error) {
	c, err := p.Source.Campaign(ctx, name)
	if pz := p.pauseOf(name); pz != nil {
		c.Pause, c.ETASeconds = pz, nil
	}
	return c, err
}

func (p *pausingSource) Resume(_ context.Context, scope, name string) error {
	p.mu.Lock()
	found := false
	for c, pz := range p.pauses {
		if pz.Scope == scope && pz.Name == name {
			delete(p.pauses, c)
			found = true
		}
	}
	p.mu.Unlock()
	if !found {
		return errors.New("not paused")
	}
	p.onResume(scope, name)
	return nil
}
