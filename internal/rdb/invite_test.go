package rdb

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// FindInvites finds an invite by any spelling of its address, across
// campaigns, and by its task ID; a query that is neither is refused.
func TestFindInvites(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	a, b := testInviteIn(t, "spring", "alice@example.org"), testInviteIn(t, "autumn", "bob@example.org")
	other := testInviteIn(t, "winter", "alice@example.org")
	other.RoomID = "!other:test"
	register(t, c, record.RegisterOptions{}, &a, &b, &other)

	got, err := c.FindInvites(ctx, "  ALICE@Example.ORG ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Campaign != "spring" || got[1].Campaign != "winter" || got[0].Key != a.Key() {
		t.Fatalf("found %+v", got)
	}
	got, err = c.FindInvites(ctx, b.TaskID())
	if err != nil || len(got) != 1 || got[0].Address != "bob@example.org" || got[0].State != record.StateQueued {
		t.Fatalf("by task ID: %+v, %v", got, err)
	}
	if got, err := c.FindInvites(ctx, "nobody@example.org"); err != nil || len(got) != 0 {
		t.Fatalf("unknown address: %+v, %v", got, err)
	}
	if _, err := c.FindInvites(ctx, "not an address"); !errors.Is(err, ErrBadQuery) {
		t.Fatalf("bad query: %v", err)
	}
}

// CancelInvite cancels one queued invite and deletes its pending task
// (checked with asynq's Inspector), leaves its neighbour queued with its
// task, and refuses nothing silently: a finished invite stays finished.
func TestCancelInviteScript(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	queue := "q-" + t.Name()
	one, two, later, done := testInvite(t, "one@example.org"), testInvite(t, "two@example.org"),
		testInvite(t, "later@example.org"), testInvite(t, "done@example.org")
	register(t, c, record.RegisterOptions{}, &one, &two, &done)
	if err := c.Register(ctx, []record.Registration{{Invite: later, Scheduled: true, ProcessAt: time.Now().Add(time.Hour)}}, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	enqueueTask(t, c, queue, one, time.Time{})
	enqueueTask(t, c, queue, two, time.Time{})
	enqueueTask(t, c, queue, later, time.Now().Add(time.Hour))
	finishNow(t, c, done, record.Final{HTTPStatus: 200})

	st, err := c.CancelInvite(ctx, one.Key(), queue)
	if err != nil {
		t.Fatal(err)
	}
	if st != (record.CancelOneStats{Before: record.StateQueued, Cancelled: true, TaskRemoved: true}) {
		t.Fatalf("stats %+v", st)
	}
	in := asynq.NewInspectorFromRedisClient(c.Conn())
	if _, err := in.GetTaskInfo(queue, one.TaskID()); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the cancelled invite's pending task is still there: %v", err)
	}
	if info, err := in.GetTaskInfo(queue, two.TaskID()); err != nil || info.State != asynq.TaskStatePending {
		t.Fatalf("the neighbour's task: %+v, %v", info, err)
	}
	if qi, err := in.GetQueueInfo(queue); err != nil || qi.Pending != 1 {
		t.Fatalf("queue: %+v, %v", qi, err)
	}
	if st, err := c.CancelInvite(ctx, later.Key(), queue); err != nil || !st.TaskRemoved || st.Before != record.StateScheduled {
		t.Fatalf("scheduled: %+v, %v", st, err)
	}
	if _, err := in.GetTaskInfo(queue, later.TaskID()); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the scheduled task is still there: %v", err)
	}
	if st, err := c.CancelInvite(ctx, done.Key(), queue); err != nil || st.Cancelled || st.Before != record.StateDone {
		t.Fatalf("done: %+v, %v", st, err)
	}
	if st, err := c.CancelInvite(ctx, one.Key(), queue); err != nil || st.Cancelled || st.Before != record.StateCancelled {
		t.Fatalf("again: %+v, %v", st, err)
	}
	if _, err := c.CancelInvite(ctx, "0123456789abcdef0123456789abcdef", queue); !errors.Is(err, ErrNoInvite) {
		t.Fatalf("unknown: %v", err)
	}
	n := checkIdentity(t, c, "spring")
	if n.States[record.StateCancelled] != 2 || n.States[record.StateQueued] != 1 || n.States[record.StateDone] != 1 {
		t.Fatalf("counts %+v", n)
	}
	d, ok, err := c.Detail(ctx, one.Key())
	if err != nil || !ok || d.CancelledAt.IsZero() || d.State != record.StateCancelled || d.TaskID != tasks.TaskIDOf(one.Key(), d.Generation) {
		t.Fatalf("detail %+v %v %v", d, ok, err)
	}
}
