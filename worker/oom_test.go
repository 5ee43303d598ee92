package worker

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// TestFinalWriteWaitsOutRedisOutOfMemory runs out of Redis memory while the
// invites are at the homeserver: their final writes are refused (OOM) and
// retried, nothing is sent again, and every result lands once memory is
// freed.
func TestFinalWriteWaitsOutRedisOutOfMemory(t *testing.T) {
	r := redistest.StartOwned(t, redistest.Options{Args: []string{"--maxmemory-policy", "noeviction"}})
	sim, err := simulator.New(simulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	// The homeserver holds each invite's answer until released.
	release := make(chan struct{})
	var arrived atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/invite") {
			arrived.Add(1)
			select {
			case <-release:
			case <-req.Context().Done():
			}
		}
		sim.Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(ts.Close)
	const n = 8
	e := &env{t: t, redis: r, rdb: r.Client(t)}
	e.cfg = Config{
		Redis: asynq.RedisClientOpt{Addr: r.Addr},
		Profiles: []Profile{{Name: tasks.DefaultSender, HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken,
			IDServer: simtest.IDServer(ts), IDAccessToken: simulator.DefaultIDAccessToken}},
		Policy:      matrix.RetryPolicy{Timeouts: []time.Duration{20 * time.Second}, Waits: []time.Duration{time.Second}, MaxRetries: 1},
		Concurrency: n, Queue: "q", KeyPrefix: "mx", PollInterval: 50 * time.Millisecond, IdentityScheme: "http",
	}
	e.prod = producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.cfg.KeyPrefix}), e.cfg.Queue)
	var invites []tasks.Invite
	for i := range n {
		inv := e.inviteTo(simulator.DefaultRoomID, fmt.Sprintf("oom%d@example.org", i))
		e.enqueue(inv, producer.Options{})
		invites = append(invites, inv)
	}
	w := e.newWorker()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Shutdown()
	ctx := context.Background()
	waitFor(t, 20*time.Second, "every invite at the homeserver", func() bool { return arrived.Load() == n })

	// Out of memory: maxmemory far below what Redis uses.
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	close(release)
	waitFor(t, 10*time.Second, "the homeserver accepting every invite", func() bool { return sim.Stats().Accepted == n })
	time.Sleep(time.Second) // the final writes meet OOM and retry meanwhile
	for _, inv := range invites {
		if res := e.result(inv); res.Final() {
			t.Fatalf("%s is final while Redis refuses writes: %+v", inv.Address, res)
		}
	}
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "every result written", func() bool {
		for _, inv := range invites {
			if !e.result(inv).Final() {
				return false
			}
		}
		return true
	})
	for _, inv := range invites {
		e.wantResult(inv, matrix.Success, 1)
	}
	if st := sim.Stats(); st.InviteRequests != n || st.Accepted != n || st.Duplicates != 0 {
		t.Fatalf("homeserver saw %d requests, accepted %d (%d duplicates); want %d, %d, 0", st.InviteRequests, st.Accepted, st.Duplicates, n, n)
	}
}

// waitFor polls cond every 20 ms, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
