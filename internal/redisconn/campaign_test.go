package redisconn

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// campaign is a small campaign sent through whatever Redis the test set
// up, against the simulator.
type campaign struct {
	t       *testing.T
	sim     *simulator.Server
	cfg     worker.Config
	invites []tasks.Invite
}

func newCampaign(t *testing.T, opt asynq.RedisConnOpt, n int, simCfg simulator.Config) *campaign {
	t.Helper()
	sim, ts := simtest.NewServer(t, simCfg)
	c := &campaign{t: t, sim: sim, cfg: worker.Config{
		Redis: opt,
		Profiles: []worker.Profile{{Name: tasks.DefaultSender, HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken,
			IDServer: simtest.IDServer(ts), IDAccessToken: simulator.DefaultIDAccessToken}},
		Policy:         matrix.RetryPolicy{Timeouts: []time.Duration{5 * time.Second}, Waits: []time.Duration{200 * time.Millisecond}, MaxRetries: 5},
		Concurrency:    4,
		PollInterval:   50 * time.Millisecond,
		IdentityScheme: "http",
	}}
	for i := range n {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: "prod", RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail,
			Address: fmt.Sprintf("user%d@example.org", i)})
		if err != nil {
			t.Fatal(err)
		}
		c.invites = append(c.invites, inv)
	}
	return c
}

// enqueue registers and enqueues invites[from:to] through conn.
func (c *campaign) enqueue(conn redis.UniversalClient, from, to int) error {
	p := producer.New(rdb.New(conn, rdb.Options{Prefix: c.cfg.KeyPrefix}), c.cfg.Queue)
	items := make([]producer.Item, 0, to-from)
	for _, inv := range c.invites[from:to] {
		items = append(items, producer.Item{Invite: inv})
	}
	_, err := p.EnqueueBatch(context.Background(), items, producer.Options{})
	return err
}

// runUntilIdle runs a worker until the queue is idle (at most limit).
func (c *campaign) runUntilIdle(limit time.Duration) {
	c.t.Helper()
	w, err := worker.New(c.cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := w.Run(ctx, true); err != nil {
		c.t.Fatal(err)
	}
	if ctx.Err() != nil {
		c.t.Fatalf("the queue was not idle within %s", limit)
	}
}

// wantAllSucceededOnce checks that every invite ended Success in Redis
// and that the simulator accepted each exactly once.
func (c *campaign) wantAllSucceededOnce(conn redis.UniversalClient) {
	c.t.Helper()
	store := rdb.New(conn, rdb.Options{Prefix: c.cfg.KeyPrefix})
	for _, inv := range c.invites {
		r, ok, err := store.Get(context.Background(), inv.Key())
		if err != nil || !ok || !r.Final() || r.StatusCode != matrix.Success {
			c.t.Fatalf("%s: record %+v (found %v, err %v); want done, Success", inv.Address, r, ok, err)
		}
	}
	accepted := map[string]int{}
	for _, a := range c.sim.Accepted() {
		accepted[a.Address]++
	}
	st := c.sim.Stats()
	for _, inv := range c.invites {
		if accepted[inv.Address] != 1 {
			c.t.Errorf("%s accepted %d times by the homeserver, want once", inv.Address, accepted[inv.Address])
		}
	}
	if len(accepted) != len(c.invites) || st.Duplicates != 0 || st.ExtraEmails != 0 {
		c.t.Errorf("homeserver accepted %d addresses (%d duplicates, %d extra emails); want %d, 0, 0",
			len(accepted), st.Duplicates, st.ExtraEmails, len(c.invites))
	}
}

func TestCampaignOverTLSWithAnACLUser(t *testing.T) {
	r := startTLSWithACL(t)
	pw := writeFile(t, "pw", "mx-password\n")
	opt, conn, err := Connect(context.Background(), Options{URL: "rediss://mx@" + r.Addr, PasswordFile: pw, TLSCAFile: r.CA.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := newCampaign(t, opt, 20, simulator.Config{})
	if err := c.enqueue(conn, 0, 20); err != nil {
		t.Fatal(err)
	}
	c.runUntilIdle(60 * time.Second)
	c.wantAllSucceededOnce(conn)
	// The work went through the ACL user, over TLS: the server counted
	// its commands (ACL LOG is empty: nothing was refused).
	admin := r.Client(t)
	if n, err := admin.Do(context.Background(), "ACL", "LOG").Slice(); err != nil || len(n) != 0 {
		t.Errorf("ACL LOG = %v, %v; want nothing refused", n, err)
	}
	if keys, err := admin.Keys(context.Background(), "mxinvite:invite:*").Result(); err != nil || len(keys) != 20 {
		t.Errorf("%d invite records (%v), want 20", len(keys), err)
	}
}
