package rdb

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// workerClient is a Client of worker id over the same Redis and prefix as c.
func workerClient(c *Client, conn *redis.Client, id string) *Client {
	return New(conn, Options{Prefix: c.k.prefix, WorkerID: id})
}

// A worker's begin marks the invite with its identity; while it beats,
// another delivery is refused ("taken"); once its beat lapses the invite
// shows as "recovering", another worker claims it for a re-delivery under
// the same record, the request that was in flight becomes an ambiguous
// attempt, and the old task then finds the invite taken, or final.
func TestTakeoverOfADeadWorkersInvite(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	a, b := workerClient(c, conn, "worker-a"), workerClient(c, conn, "worker-b")
	inv := testInvite(t, "x@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	if err := a.Heartbeat(ctx, "worker-a", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Heartbeat(ctx, "worker-b", time.Hour); err != nil {
		t.Fatal(err)
	}
	openGate(t, c, inv.Sender)
	p, err := a.Begin(ctx, inv, BeginOptions{Send: true})
	if err != nil || !p.Sent {
		t.Fatalf("begin by worker-a: %+v %v; want sent", p, err)
	}
	rec := conn.HGetAll(ctx, c.k.invite(inv.Key())).Val()
	if rec["owner"] != "worker-a" || rec["inflight"] != "1" {
		t.Fatalf("record after begin %v; want owner worker-a, in flight", rec)
	}
	if held, _ := c.Held(ctx, "worker-a"); len(held) != 1 || held[0] != inv.Key() {
		t.Fatalf("worker-a holds %v", held)
	}
	// asynq's redelivery of the same task to worker-b while worker-a lives.
	if _, err := b.Begin(ctx, inv, BeginOptions{Send: true}); !errors.Is(err, ErrTaken) {
		t.Fatalf("begin by worker-b while worker-a holds the invite: %v, want ErrTaken", err)
	}
	if _, err := b.ClaimFrom(ctx, "worker-a", false, false, []Claim{{Key: inv.Key(), NewTaskID: "x"}}); !errors.Is(err, ErrWorkerAlive) {
		t.Fatalf("claim from a live worker: %v, want ErrWorkerAlive", err)
	}

	// worker-a dies: its beat lapses.
	if err := c.Leave(ctx, "worker-a"); err != nil {
		t.Fatal(err)
	}
	if dead, _ := c.DeadWorkers(ctx); len(dead) != 1 || dead[0] != "worker-a" {
		t.Fatalf("dead workers %v", dead)
	}
	if n := checkIdentity(t, c, "spring"); n.States[record.StateRecovering] != 1 || n.States[record.StateActive] != 0 {
		t.Fatalf("counts with worker-a dead: %+v; want 1 recovering, 0 active", n.States)
	}
	cands, err := b.Candidates(ctx, []string{inv.Key()})
	if err != nil || len(cands) != 1 || cands[0].TaskID != inv.TaskID() || cands[0].Owner != "worker-a" {
		t.Fatalf("candidates %+v %v", cands, err)
	}
	newID := tasks.RedeliveryTaskID(inv.TaskID(), 1)
	got, err := b.ClaimFrom(ctx, "worker-a", false, false, []Claim{{Key: inv.Key(), Expect: cands[0].Expect, NewTaskID: newID}})
	if err != nil || len(got) != 1 || !got[0] {
		t.Fatalf("claim: %v %v", got, err)
	}
	rec = conn.HGetAll(ctx, c.k.invite(inv.Key())).Val()
	if rec["task_id"] != newID || rec["owner"] != "" || rec["takeovers"] != "1" || rec["state"] != "active" {
		t.Fatalf("record after the claim %v", rec)
	}
	if n, _ := conn.ZCard(ctx, c.k.workers()).Result(); n != 1 {
		t.Errorf("%d workers listed; worker-a, whose invites are all taken over, should be gone", n)
	}
	// The re-delivery begins under the same record: one ambiguous attempt.
	p, err = b.Begin(ctx, inv, BeginOptions{Send: true, TaskID: newID})
	if err != nil || p.Ambiguous != 1 || p.Sent {
		t.Fatalf("begin of the re-delivery: %+v %v; want go with 1 ambiguous attempt", p, err)
	}
	// asynq gives the old task back: taken while worker-b holds it …
	if _, err := a.Begin(ctx, inv, BeginOptions{Send: true}); !errors.Is(err, ErrTaken) {
		t.Fatalf("the old task's begin: %v, want ErrTaken", err)
	}
	// … and final once worker-b has finished.
	if _, err := b.Finish(ctx, inv, p, record.AttemptUpdate{Attempts: 1}, success()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Begin(ctx, inv, BeginOptions{Send: true}); !errors.Is(err, ErrDone) {
		t.Fatalf("the old task's begin after the finish: %v, want ErrDone", err)
	}
	if n := checkIdentity(t, c, "spring"); n.States[record.StateDone] != 1 {
		t.Fatalf("counts %+v", n.States)
	}
}

// A re-delivery that is lost leaves the record active with no owner: the
// old task, when asynq gives it back, takes the orphan.
func TestTheOldTaskTakesAnOrphanedInvite(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	a := workerClient(c, conn, "worker-a")
	inv := testInvite(t, "x@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	if _, err := a.Begin(ctx, inv, BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ClaimFrom(ctx, "worker-a", false, false, []Claim{{Key: inv.Key(), Expect: inv.TaskID() + "|1", NewTaskID: tasks.RedeliveryTaskID(inv.TaskID(), 2)}})
	if err != nil || !got[0] {
		t.Fatalf("claim from a worker that never beat: %v %v", got, err)
	}
	if _, err := a.Begin(ctx, inv, BeginOptions{}); err != nil {
		t.Fatalf("the old task's begin of the orphan: %v", err)
	}
	if rec := conn.HGetAll(ctx, c.k.invite(inv.Key())).Val(); rec["task_id"] != inv.TaskID() || rec["owner"] != "worker-a" {
		t.Fatalf("record %v; want the old task's again", rec)
	}
}

// A worker's own invites that it no longer holds (cut off by a Redis
// failover) are claimed by itself though it is alive; ones it finished are
// only dropped from its held set.
func TestAWorkerReclaimsItsCutOffInvites(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	a := workerClient(c, conn, "worker-a")
	if err := a.Heartbeat(ctx, "worker-a", time.Hour); err != nil {
		t.Fatal(err)
	}
	cut, done := testInvite(t, "cut@example.org"), testInvite(t, "done@example.org")
	register(t, c, record.RegisterOptions{}, &cut, &done)
	for _, inv := range []tasks.Invite{cut, done} {
		if _, err := a.Begin(ctx, inv, BeginOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pd, _ := a.Begin(ctx, done, BeginOptions{})
	if _, err := a.Finish(ctx, done, pd, record.AttemptUpdate{Attempts: 1}, success()); err != nil {
		t.Fatal(err)
	}
	got, err := a.ClaimFrom(ctx, "worker-a", true, false, []Claim{
		{Key: cut.Key(), Expect: cut.TaskID() + "|1", NewTaskID: tasks.RedeliveryTaskID(cut.TaskID(), 3)},
		{Key: done.Key(), Expect: done.TaskID() + "|2", NewTaskID: tasks.RedeliveryTaskID(done.TaskID(), 3)},
	})
	if err != nil || !got[0] || got[1] {
		t.Fatalf("self claim: %v %v; want the cut-off one only", got, err)
	}
	if held, _ := a.Held(ctx, "worker-a"); len(held) != 0 {
		t.Errorf("held set %v; want empty", held)
	}
	if n, _ := conn.ZScore(ctx, c.k.workers(), "worker-a").Result(); n == 0 {
		t.Errorf("a live worker's entry was dropped")
	}

	// A delivery that begins the invite after the claimer read it wins:
	// the claim is refused.
	again := testInvite(t, "again@example.org")
	register(t, c, record.RegisterOptions{}, &again)
	if _, err := a.Begin(ctx, again, BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	cands, err := a.Candidates(ctx, []string{again.Key()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Begin(ctx, again, BeginOptions{}); err != nil { // asynq's retry, delivered here
		t.Fatal(err)
	}
	got, err = a.ClaimFrom(ctx, "worker-a", true, false, []Claim{{Key: again.Key(), Expect: cands[0].Expect,
		NewTaskID: tasks.RedeliveryTaskID(again.TaskID(), 5)}})
	if err != nil || got[0] {
		t.Fatalf("claim of an invite begun since it was read: %v %v; want refused", got, err)
	}
}

// StaleLeases lists the tasks whose asynq lease nobody extends; an orphan
// found that way (never begun) is claimed though it is not active, and its
// old task then finds it taken.
func TestStaleLeasesAndOrphanClaims(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	inv := testInvite(t, "x@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	lease := asynqZset("q-"+c.k.prefix, "lease")
	t.Cleanup(func() { conn.Del(ctx, lease) })
	now := time.Now()
	conn.ZAdd(ctx, lease, redis.Z{Score: float64(now.Add(20 * time.Second).Unix()), Member: inv.TaskID()},
		redis.Z{Score: float64(now.Add(30 * time.Second).Unix()), Member: "fresh"})
	stale, err := c.StaleLeases(ctx, []string{"q-" + c.k.prefix, "empty-" + c.k.prefix}, 8*time.Second)
	ids := stale["q-"+c.k.prefix]
	if err != nil || len(stale) != 1 || len(ids) != 1 || ids[0] != inv.TaskID() {
		t.Fatalf("stale leases %v %v; want only %s", ids, err, inv.TaskID())
	}
	newID := tasks.RedeliveryTaskID(inv.TaskID(), 4)
	got, err := c.ClaimOrphans(ctx, []Claim{{Key: inv.Key(), Expect: "|", NewTaskID: newID}})
	if err != nil || !got[0] {
		t.Fatalf("orphan claim: %v %v", got, err)
	}
	if _, err := c.Begin(ctx, inv, BeginOptions{}); !errors.Is(err, ErrTaken) {
		t.Fatalf("the old task's begin: %v, want ErrTaken", err)
	}
	if _, err := c.Begin(ctx, inv, BeginOptions{TaskID: newID}); err != nil {
		t.Fatalf("the re-delivery's begin: %v", err)
	}
	if v := conn.HGet(ctx, c.k.invite(inv.Key()), "takeovers").Val(); v != strconv.Itoa(1) {
		t.Errorf("takeovers %q", v)
	}
	checkIdentity(t, c, "spring")
}
