package worker

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

const (
	testToken   = "secret-access-token-1234"
	testIDToken = "secret-id-token-5678"
	testRoom    = "!room:test"
)

// env is one test's Redis, key prefix, queue and worker configuration.
type env struct {
	t     *testing.T
	redis *redistest.Server
	rdb   *redis.Client
	cfg   Config
	prod  *producer.Producer
}

func newEnv(t *testing.T, hsURL string, mut ...func(*Config)) *env {
	t.Helper()
	r := redistest.Start(t)
	e := &env{t: t, redis: r, rdb: r.Client(t)}
	e.cfg = Config{
		Redis: asynq.RedisClientOpt{Addr: r.Addr},
		Profiles: []Profile{{
			Name: tasks.DefaultSender, HomeserverURL: hsURL, AccessToken: testToken,
			IDServer: "id.example.org", IDAccessToken: testIDToken,
		}},
		Policy: matrix.RetryPolicy{
			Timeouts:   []time.Duration{2 * time.Second},
			Waits:      []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
			MaxRetries: 3,
		},
		Concurrency:  4,
		Queue:        redistest.Unique(t, "q"),
		KeyPrefix:    redistest.Unique(t, "mx"),
		PollInterval: 50 * time.Millisecond,
	}
	for _, m := range mut {
		m(&e.cfg)
	}
	e.prod = producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.cfg.KeyPrefix}), e.cfg.Queue)
	return e
}

func (e *env) invite(address string) tasks.Invite {
	e.t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: testRoom, Medium: tasks.MediumEmail, Address: address})
	if err != nil {
		e.t.Fatalf("NewInvite(%q): %v", address, err)
	}
	return inv
}

func (e *env) enqueue(inv tasks.Invite, opts producer.Options) record.Verdict {
	e.t.Helper()
	v, err := e.prod.Enqueue(context.Background(), inv, opts)
	if err != nil {
		e.t.Fatalf("Enqueue: %v", err)
	}
	return v
}

func (e *env) newWorker() *Worker {
	e.t.Helper()
	w, err := New(e.cfg)
	if err != nil {
		e.t.Fatalf("worker.New: %v", err)
	}
	return w
}

// runUntilIdle runs a worker until the queue is idle, failing after limit.
func (e *env) runUntilIdle(limit time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := e.newWorker().Run(ctx, true); err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	if ctx.Err() != nil {
		e.t.Fatalf("the queue was not idle within %s", limit)
	}
}

func (e *env) result(inv tasks.Invite) record.Result {
	e.t.Helper()
	r, ok, err := rdb.New(e.rdb, rdb.Options{Prefix: e.cfg.KeyPrefix}).Get(context.Background(), inv.Key())
	if err != nil || !ok {
		e.t.Fatalf("no record for %s (err %v)", inv.Address, err)
	}
	return r
}

// wantResult checks the persisted outcome of an invite.
func (e *env) wantResult(inv tasks.Invite, code matrix.StatusCode, attempts int) record.Result {
	e.t.Helper()
	r := e.result(inv)
	if !r.Final() || r.StatusCode != code || r.Status != code.String() || r.Attempts != attempts {
		e.t.Fatalf("%s: got state %s status %d %s attempts %d (error %q); want done %d %s attempts %d",
			inv.Address, r.State, r.StatusCode, r.Status, r.Attempts, r.Error, code, code, attempts)
	}
	return r
}

// inspector is asynq's view of the test's queue.
func (e *env) inspector() *asynq.Inspector {
	e.t.Helper()
	in := asynq.NewInspectorFromRedisClient(e.rdb)
	return in
}

// store is the test's Redis through mxinvite's own client.
func (e *env) store() *rdb.Client { return e.prod.Store() }

// wantResultCode checks an invite's final status, whatever its attempts.
func (e *env) wantResultCode(inv tasks.Invite, code matrix.StatusCode) record.Result {
	e.t.Helper()
	r := e.result(inv)
	if !r.Final() || r.StatusCode != code {
		e.t.Fatalf("%s: state %s status %s (error %q); want done %s", inv.Address, r.State, r.Status, r.Error, code)
	}
	return r
}

// queueOf is the asynq queue the campaign's invites went to (its lane).
func (e *env) queueOf(campaign string) string {
	e.t.Helper()
	q, err := e.store().QueueOfCampaign(e.t.Context(), e.cfg.Queue, campaign)
	if err != nil {
		e.t.Fatal(err)
	}
	return q
}
