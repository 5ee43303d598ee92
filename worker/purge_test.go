package worker

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// invitesIn is env.invite for a campaign, one per address.
func (e *env) invitesIn(campaign string, addresses ...string) []tasks.Invite {
	e.t.Helper()
	var out []tasks.Invite
	for _, a := range addresses {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: a})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, inv)
	}
	return out
}

func addresses(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

func (e *env) purge(opts record.PurgeOptions) record.PurgeStats {
	e.t.Helper()
	st, err := e.prod.Purge(context.Background(), opts)
	if err != nil {
		e.t.Fatalf("Purge(%+v): %v", opts, err)
	}
	return st
}

func (e *env) archived() int {
	e.t.Helper()
	queues, err := e.store().QueuesUnder(context.Background(), e.cfg.Queue)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, q := range queues {
		info, err := asynq.NewInspectorFromRedisClient(e.rdb).GetQueueInfo(q)
		if err != nil {
			e.t.Fatal(err)
		}
		n += info.Archived
	}
	return n
}

func (e *env) streamLen() int64 {
	e.t.Helper()
	n, err := e.rdb.XLen(context.Background(), e.cfg.KeyPrefix+":results").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// keyCount counts the test's keys: its prefix and its asynq queue.
func (e *env) keyCount() int {
	e.t.Helper()
	n := 0
	for _, pattern := range []string{e.cfg.KeyPrefix + ":*", "asynq:{" + e.cfg.Queue + "}:*", "asynq:{" + e.cfg.Queue + ":*"} {
		keys, err := e.rdb.Keys(context.Background(), pattern).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(keys)
	}
	return n
}

func TestPurgeCampaign(t *testing.T) {
	e, _ := newSimEnv(t, simulator.Config{Rules: []simulator.Rule{{Pattern: "*@banned.example", Status: 403, ErrCode: "M_FORBIDDEN"}}})
	spring := append(e.invitesIn("spring", addresses("ok%d@example.org", 12)...), e.invitesIn("spring", addresses("no%d@banned.example", 5)...)...)
	autumn := e.invitesIn("autumn", addresses("fall%d@example.org", 3)...)
	for _, inv := range append(slices.Clone(spring), autumn...) {
		e.enqueue(inv, producer.Options{})
	}
	e.runUntilIdle(60 * time.Second)
	later := e.invitesIn("spring", "later@example.org")[0]
	e.enqueue(later, producer.Options{ProcessAt: time.Now().Add(time.Hour)})
	if e.archived() != 5 || e.streamLen() != 20 {
		t.Fatalf("before the purge: %d archived tasks, %d stream entries; want 5 (the refused invites), 20", e.archived(), e.streamLen())
	}

	keys := e.keyCount()
	want := record.PurgeStats{Records: 17, Tasks: 5, StreamEntries: 17, Kept: 1, CampaignsDeleted: []string{}, DryRun: true}
	if got := e.purge(record.PurgeOptions{Campaign: "spring", DryRun: true, BatchSize: 4}); !equalStats(got, want) {
		t.Fatalf("dry run: %+v, want %+v", got, want)
	}
	if e.keyCount() != keys || e.archived() != 5 || e.streamLen() != 20 {
		t.Fatal("the dry run deleted something")
	}

	want.DryRun = false
	if got := e.purge(record.PurgeOptions{Campaign: "spring", BatchSize: 4}); !equalStats(got, want) {
		t.Fatalf("purge: %+v, want %+v", got, want)
	}
	for _, inv := range spring {
		if _, ok, _ := e.prod.Store().Get(context.Background(), inv.Key()); ok {
			t.Fatalf("%s still has a record", inv.Address)
		}
	}
	if e.archived() != 0 || e.streamLen() != 3 {
		t.Fatalf("after the purge: %d archived tasks, %d stream entries; want 0, 3 (autumn's)", e.archived(), e.streamLen())
	}
	c, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil || c.Enqueued != 1 || c.States[record.StateScheduled] != 1 || c.Pending() != 1 || len(c.Statuses) != 0 || c.Requests != 0 {
		t.Fatalf("spring counts %+v (%v); want only the scheduled invite counted", c, err)
	}
	if c, _ := e.prod.Store().Counts(context.Background(), "autumn"); c.Enqueued != 3 || c.Statuses["Success"] != 3 || c.Requests != 3 {
		t.Fatalf("autumn counts %+v; want untouched", c)
	}
	if _, err := asynq.NewInspectorFromRedisClient(e.rdb).GetTaskInfo(e.queueOf("spring"), later.TaskID()); err != nil {
		t.Fatalf("the scheduled invite's task: %v; want it kept", err)
	}

	// Cancelled, the last invite goes too, and the campaign with it.
	if _, err := e.prod.Cancel(context.Background(), "spring"); err != nil {
		t.Fatal(err)
	}
	got := e.purge(record.PurgeOptions{Campaign: "spring"})
	if !slices.Equal(got.CampaignsDeleted, []string{"spring"}) || got.Kept != 0 {
		t.Fatalf("purge after cancel: %+v; want spring deleted", got)
	}
	names, _ := e.prod.Store().Campaigns(context.Background())
	if n, _ := e.rdb.Exists(context.Background(), e.cfg.KeyPrefix+":campaign:spring:counts", e.cfg.KeyPrefix+":campaign:spring:invites",
		e.cfg.KeyPrefix+":campaign:spring:order").Result(); n != 0 || !slices.Equal(names, []string{"autumn"}) {
		t.Fatalf("spring's keys left: %d, campaigns %v", n, names)
	}
	if _, err := e.prod.Purge(context.Background(), record.PurgeOptions{Campaign: "spring"}); err == nil {
		t.Fatal("purging a campaign that is gone: no error")
	}
}

func equalStats(a, b record.PurgeStats) bool {
	return a.Records == b.Records && a.Tasks == b.Tasks && a.StreamEntries == b.StreamEntries &&
		a.StaleIndexEntries == b.StaleIndexEntries && a.Kept == b.Kept && a.DryRun == b.DryRun &&
		slices.Equal(a.CampaignsDeleted, b.CampaignsDeleted)
}

func TestPurgeFinishedBefore(t *testing.T) {
	e, _ := newSimEnv(t, simulator.Config{})
	early := append(e.invitesIn("a", addresses("a%d@example.org", 6)...), e.invitesIn("b", addresses("b%d@example.org", 4)...)...)
	for _, inv := range early {
		e.enqueue(inv, producer.Options{})
	}
	e.runUntilIdle(60 * time.Second)
	cutoff := time.Now().Truncate(time.Second).Add(time.Second)
	// Enqueued before the cutoff, sent after it: not finished before it.
	straddling := e.invitesIn("a", "straddle@example.org")[0]
	e.enqueue(straddling, producer.Options{ProcessAt: cutoff.Add(300 * time.Millisecond)})
	time.Sleep(time.Until(cutoff) + 10*time.Millisecond)
	late := e.invitesIn("b", addresses("late%d@example.org", 3)...)
	for _, inv := range late {
		e.enqueue(inv, producer.Options{})
	}
	e.runUntilIdle(60 * time.Second)

	got := e.purge(record.PurgeOptions{FinishedBefore: cutoff, BatchSize: 3})
	want := record.PurgeStats{Records: 10, StreamEntries: 10, Kept: 4, CampaignsDeleted: []string{}}
	if !equalStats(got, want) {
		t.Fatalf("purge: %+v, want %+v", got, want)
	}
	for _, inv := range append([]tasks.Invite{straddling}, late...) {
		e.wantResult(inv, matrix.Success, 1)
	}
	if e.streamLen() != 4 {
		t.Fatalf("%d stream entries left, want 4", e.streamLen())
	}
	ca, _ := e.prod.Store().Counts(context.Background(), "a")
	cb, _ := e.prod.Store().Counts(context.Background(), "b")
	if ca.Enqueued != 1 || ca.States[record.StateDone] != 1 || cb.Enqueued != 3 || cb.Statuses["Success"] != 3 {
		t.Fatalf("counts a %+v, b %+v; want what is left", ca, cb)
	}
}

func TestFinishedTTLExpiresRecordsAndPurgeDropsWhatIsLeft(t *testing.T) {
	// TxnTTL: Synapse forgets a PUT's transaction after about 30 minutes;
	// here at once, so that the second invite is a real one.
	e, sim := newSimEnv(t, simulator.Config{TxnTTL: time.Millisecond}, func(c *Config) { c.FinishedTTL = 3 * time.Second })
	invites := e.invitesIn("ttl", addresses("t%d@example.org", 4)...)
	for _, inv := range invites {
		e.enqueue(inv, producer.Options{})
	}
	e.runUntilIdle(60 * time.Second)
	ttl, err := e.rdb.PTTL(context.Background(), e.cfg.KeyPrefix+":invite:"+invites[0].Key()).Result()
	// (A worker's shutdown may take a second or more: a lane's idle asynq
	// server finishes its sleep first.)
	if err != nil || ttl <= 0 || ttl > 3*time.Second {
		t.Fatalf("PTTL of a finished record: %v (%v); want up to 3s", ttl, err)
	}
	waitFor(t, 10*time.Second, "the records expired", func() bool {
		for _, inv := range invites {
			if n, _ := e.rdb.Exists(context.Background(), e.cfg.KeyPrefix+":invite:"+inv.Key()).Result(); n != 0 {
				return false
			}
		}
		return true
	})
	got := e.purge(record.PurgeOptions{Campaign: "ttl"})
	if got.StaleIndexEntries != 4 || got.Records != 0 || !slices.Equal(got.CampaignsDeleted, []string{"ttl"}) {
		t.Fatalf("purge after expiry: %+v; want 4 stale index entries dropped, the campaign deleted", got)
	}
	// As documented: an expired record no longer stops a second invite.
	if v := e.enqueue(invites[0], producer.Options{}); v != record.Registered {
		t.Fatalf("enqueue after expiry: %v, want registered", v)
	}
	e.runUntilIdle(60 * time.Second)
	if st := sim.Stats(); st.Duplicates != 1 {
		t.Fatalf("%d duplicate invites; want the one the TTL allows", st.Duplicates)
	}
}

func TestResultsStreamIsCapped(t *testing.T) {
	if got := (Config{}).WithDefaults().StreamMaxLen; got != DefaultStreamMaxLen || DefaultStreamMaxLen != 100_000 {
		t.Fatalf("default StreamMaxLen %d, want 100000", got)
	}
	e, _ := newSimEnv(t, simulator.Config{}, func(c *Config) { c.StreamMaxLen = 10; c.Concurrency = 16 })
	// XADD MAXLEN ~ trims whole nodes of stream-node-max-entries: make
	// them small so that a hundred entries show the cap.
	if !e.redis.Owned {
		t.Skip("changes the server's stream-node-max-entries: only on a Redis the test owns")
	}
	if err := e.rdb.ConfigSet(context.Background(), "stream-node-max-entries", "5").Err(); err != nil {
		t.Fatal(err)
	}
	const n = 120
	for _, inv := range e.invitesIn("cap", addresses("c%d@example.org", n)...) {
		e.enqueue(inv, producer.Options{})
	}
	e.runUntilIdle(60 * time.Second)
	if l := e.streamLen(); l < 10 || l > 15 {
		t.Fatalf("stream length %d after %d results with a cap of 10 (nodes of 5); want 10..15", l, n)
	}
}
