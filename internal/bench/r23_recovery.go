package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redisserver"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// Issue 23: back within seconds after a crash or a failover.
const (
	r23Invites     = 200
	r23Latency     = 300 * time.Millisecond // the identity server's, per invite
	r23FinalAtKill = 60
	r23Concurrency = 10
	r23Goal        = 30 * time.Second
	r23Limit       = 100 * time.Second // per run; asynq alone would take ~70-120 s
)

// runR23 measures the time from a SIGKILL to the last invite's final
// result: one of two workers killed (R23a), the only worker killed and a new
// one started 2 s later (R23b, from the restart), the Redis primary killed
// and the replica promoted by Sentinel (R23c).
func runR23(ctx context.Context, e *env) []row {
	rows := []row{r23Run(ctx, e, "R23a", false)}
	_ = e.flush(ctx)
	rows = append(rows, r23Run(ctx, e, "R23b", true))
	_ = e.flush(ctx)
	return append(rows, r23Failover(ctx, e))
}

// r23Campaign enqueues the invites and starts the simulator.
func r23Campaign(ctx context.Context, conn redis.UniversalClient, name string) (*simServer, error) {
	sim, err := startSim(ctx, simulator.Config{IdentityLatency: r23Latency}, nil)
	if err != nil {
		return nil, err
	}
	invs := make([]tasks.Invite, r23Invites)
	for i := range invs {
		if invs[i], err = tasks.NewInvite(tasks.Invite{Campaign: name, RoomID: simulator.DefaultRoomID,
			Medium: tasks.MediumEmail, Address: fmt.Sprintf("r23-%04d@bench.example", i)}); err != nil {
			sim.stop()
			return nil, err
		}
	}
	if err := enqueueInvites(ctx, conn, "", "", invs); err != nil {
		sim.stop()
		return nil, err
	}
	return sim, nil
}

// r23Worker starts a worker (no --until-idle: the killed worker's old
// tasks stay in asynq's active list until its lease recovery, after the
// invites are done).
func (e *env) r23Worker(ctx context.Context, name, redisURL string, sim *simServer) (*child, error) {
	env := []string{
		"MXINVITE_ACCESS_TOKEN=" + simulator.DefaultAccessToken,
		"MXINVITE_ID_ACCESS_TOKEN=" + simulator.DefaultIDAccessToken,
	}
	return e.startChild(ctx, name, r23Limit+time.Minute, env,
		"worker", "--redis", redisURL, "--homeserver", sim.url, "--id-server", sim.host,
		"--identity-scheme", "http", "--concurrency", strconv.Itoa(r23Concurrency),
		"--retry-waits", "200ms,400ms", "--timeouts", "5s",
		"--log-level", workerLogLevel(), "--log-format", "json")
}

// r23Wait polls the campaign's counts until n invites are final (or the
// limit); it returns when that was seen.
func r23Wait(ctx context.Context, store *rdb.Client, name string, n int, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for {
		c, err := store.Counts(ctx, name)
		if err == nil && c.States[record.StateDone] >= n {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d invites final after %s (last error %v)", c.States[record.StateDone], n, limit, err)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func stopAll(kids []*child) {
	for _, k := range kids {
		k.cancel()
		k.wait()
	}
}

func r23Run(ctx context.Context, e *env, id string, restart bool) row {
	what := "one of two workers SIGKILLed: last invite final, from the kill"
	if restart {
		what = "the only worker SIGKILLed, a new one started 2 s later: last invite final, from the restart"
	}
	name := "r23-" + id
	sim, err := r23Campaign(ctx, e.rdb, name)
	if err != nil {
		return printed(failed(id, what, "≤ 30 s", err))[0]
	}
	defer sim.stop()
	victim, err := e.r23Worker(ctx, name+"-w1", e.redisURL(), sim)
	if err != nil {
		return printed(failed(id, what, "≤ 30 s", err))[0]
	}
	kids := []*child{}
	defer func() { stopAll(kids) }()
	if !restart {
		k, err := e.r23Worker(ctx, name+"-w2", e.redisURL(), sim)
		if err != nil {
			stopAll([]*child{victim})
			return printed(failed(id, what, "≤ 30 s", err))[0]
		}
		kids = append(kids, k)
	}
	store := rdb.New(e.rdb, rdb.Options{})
	if _, err := r23Wait(ctx, store, name, r23FinalAtKill, time.Minute); err != nil {
		stopAll([]*child{victim})
		return printed(failed(id, what, "≤ 30 s", err))[0]
	}
	atKill, _ := store.Counts(ctx, name)
	stopAll([]*child{victim}) // SIGKILL
	from := time.Now()
	if restart {
		time.Sleep(2 * time.Second)
		from = time.Now()
		k, err := e.r23Worker(ctx, name+"-w1-restarted", e.redisURL(), sim)
		if err != nil {
			return printed(failed(id, what, "≤ 30 s", err))[0]
		}
		kids = append(kids, k)
	}
	doneAt, err := r23Wait(ctx, store, name, r23Invites, r23Limit)
	if err != nil {
		return printed(failed(id, what, "≤ 30 s", err))[0]
	}
	return printed(r23Row(id, what, doneAt.Sub(from), sim, atKill.States[record.StateDone]))[0]
}

func r23Row(id, what string, took time.Duration, sim *simServer, atKill int) row {
	st := sim.sim.Stats()
	met := metYes
	if took > r23Goal || st.Duplicates != 0 {
		met = metNo
	}
	return row{id: id, what: what, measured: fmt.Sprintf("%.1f s, %d stored twice", took.Seconds(), st.Duplicates),
		goal: "≤ 30 s, 0 stored twice", met: met,
		notes: fmt.Sprintf("%d invites, identity server %s each, %d final at the kill, concurrency %d; %d answered from the txnId cache",
			r23Invites, r23Latency, atKill, r23Concurrency, st.TxnCacheHits)}
}

// r23Failover: two workers through Sentinel (a primary, a replica, one
// Sentinel); the primary SIGKILLed once 60 invites are final.
func r23Failover(ctx context.Context, e *env) row {
	const id, what = "R23c", "Sentinel failover, primary SIGKILLed: last invite final, from the kill"
	fail := func(err error) row { return printed(failed(id, what, "≤ 30 s", err))[0] }
	dir := filepath.Join(e.dir, "r23-sentinel")
	var servers []*redisserver.Server
	defer func() {
		for _, s := range servers {
			s.Stop()
		}
	}()
	start := func(sub string, o redisserver.Options) (*redisserver.Server, error) {
		o.Dir = filepath.Join(dir, sub)
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			return nil, err
		}
		s, err := redisserver.Start(o)
		if err == nil {
			servers = append(servers, s)
		}
		return s, err
	}
	primary, err := start("primary", redisserver.Options{AppendOnly: true})
	if err != nil {
		return fail(err)
	}
	replica, err := start("replica", redisserver.Options{AppendOnly: true, ReplicaOf: primary.Addr})
	if err != nil {
		return fail(err)
	}
	sdir := filepath.Join(dir, "sentinel")
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return fail(err)
	}
	sent, err := redisserver.StartSentinel(redisserver.SentinelOptions{Dir: sdir, Master: "mxprimary", MasterAddr: primary.Addr})
	if err != nil {
		return fail(err)
	}
	servers = append(servers, sent)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sent.Addr})
	defer sc.Close()
	if err := r23Until(ctx, 30*time.Second, func() bool {
		reps, err := sc.Replicas(ctx, "mxprimary").Result()
		return err == nil && len(reps) == 1 && reps[0]["master-link-status"] == "ok"
	}); err != nil {
		return fail(fmt.Errorf("the Sentinel never saw the replica in sync: %w", err))
	}
	conn := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "mxprimary", SentinelAddrs: []string{sent.Addr}})
	defer conn.Close()
	name := "r23-failover"
	sim, err := r23Campaign(ctx, conn, name)
	if err != nil {
		return fail(err)
	}
	defer sim.stop()
	url := "redis-sentinel://" + sent.Addr + "/mxprimary"
	var kids []*child
	defer func() { stopAll(kids) }()
	for i := range 2 {
		k, err := e.r23Worker(ctx, fmt.Sprintf("%s-w%d", name, i+1), url, sim)
		if err != nil {
			return fail(err)
		}
		kids = append(kids, k)
	}
	store := rdb.New(conn, rdb.Options{})
	if _, err := r23Wait(ctx, store, name, r23FinalAtKill, time.Minute); err != nil {
		return fail(err)
	}
	atKill, _ := store.Counts(ctx, name)
	primary.Kill()
	killedAt := time.Now()
	if err := r23Until(ctx, 30*time.Second, func() bool {
		hp, err := sc.GetMasterAddrByName(ctx, "mxprimary").Result()
		return err == nil && len(hp) == 2 && hp[0]+":"+hp[1] == replica.Addr
	}); err != nil {
		return fail(fmt.Errorf("no failover: %w", err))
	}
	promoted := time.Since(killedAt)
	doneAt, err := r23Wait(ctx, store, name, r23Invites, r23Limit)
	if err != nil {
		return fail(err)
	}
	r := r23Row(id, what, doneAt.Sub(killedAt), sim, atKill.States[record.StateDone])
	r.notes += fmt.Sprintf("; replica promoted %.1f s after the kill", promoted.Seconds())
	return printed(r)[0]
}

// r23Until polls cond every 100 ms for at most limit.
func r23Until(ctx context.Context, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}
