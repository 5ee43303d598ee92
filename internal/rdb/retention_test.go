package rdb

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// enqueueTask enqueues inv's asynq task in queue (scheduled when at is set).
func enqueueTask(t testing.TB, c *Client, queue string, inv tasks.Invite, at time.Time) {
	t.Helper()
	opts := []asynq.Option{asynq.Queue(queue)}
	if !at.IsZero() {
		opts = append(opts, asynq.ProcessAt(at))
	}
	task, err := inv.Task(opts...)
	if err != nil {
		t.Fatal(err)
	}
	cl := asynq.NewClientFromRedisClient(c.Conn())
	if _, err := cl.Enqueue(task); err != nil {
		t.Fatal(err)
	}
}

// Cancel marks every unsent invite cancelled, deletes the tasks asynq
// holds in its scheduled set (through asynq's own layout, checked with its
// Inspector), and leaves in-flight and finished invites alone.
func TestCancelScript(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	queue := "q-" + t.Name()
	queued, later, active, done := testInvite(t, "queued@example.org"), testInvite(t, "later@example.org"),
		testInvite(t, "active@example.org"), testInvite(t, "done@example.org")
	register(t, c, record.RegisterOptions{}, &queued, &active, &done)
	regs := []record.Registration{{Invite: later, Scheduled: true, ProcessAt: time.Now().Add(time.Hour)}}
	if err := c.Register(ctx, regs, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	enqueueTask(t, c, queue, queued, time.Time{})
	enqueueTask(t, c, queue, later, time.Now().Add(time.Hour))
	if _, err := c.Begin(ctx, active, BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	finishNow(t, c, done, record.Final{HTTPStatus: 200})

	st, err := c.Cancel(ctx, "spring", queue)
	if err != nil {
		t.Fatal(err)
	}
	if st != (record.CancelStats{Cancelled: 2, InFlight: 1, Finished: 1, TasksLeft: 1}) {
		t.Fatalf("stats %+v", st)
	}
	in := asynq.NewInspectorFromRedisClient(c.Conn())
	if _, err := in.GetTaskInfo(queue, later.TaskID()); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the scheduled task is still there: %v", err)
	}
	if _, err := in.GetTaskInfo(queue, queued.TaskID()); err != nil {
		t.Fatalf("the pending task (left for its delivery to end): %v", err)
	}
	n := checkIdentity(t, c, "spring")
	if n.States[record.StateCancelled] != 2 || n.States[record.StateActive] != 1 || n.States[record.StateDone] != 1 {
		t.Fatalf("counts %+v", n)
	}
	if st, _ := c.Cancel(ctx, "spring", queue); st.AlreadyCancelled != 2 || st.Cancelled != 0 {
		t.Fatalf("second cancel %+v", st)
	}
}

// Purge deletes finished and cancelled invites with the asynq tasks they
// left (archived, completed, retry), keeps the others, drops stale index
// entries, trims the stream, and deletes a campaign left empty.
func TestPurgeScripts(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	queue := "q-" + t.Name()
	done, gone, kept := testInvite(t, "done@example.org"), testInvite(t, "gone@example.org"), testInvite(t, "kept@example.org")
	register(t, c, record.RegisterOptions{}, &done, &gone, &kept)
	// done's task: asynq archived it (as it does for a task that failed for good).
	enqueueTask(t, c, queue, done, time.Now().Add(time.Hour))
	in := asynq.NewInspectorFromRedisClient(c.Conn())
	if err := in.ArchiveTask(queue, done.TaskID()); err != nil {
		t.Fatal(err)
	}
	finishNow(t, c, done, record.Final{HTTPStatus: 200})
	finishNow(t, c, gone, record.Final{HTTPStatus: 200})
	conn.Del(ctx, c.k.invite(gone.Key())) // expired by its TTL

	dry, err := c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring", DryRun: true})
	if err != nil || dry.Records != 1 || dry.Tasks != 1 || dry.StaleIndexEntries != 1 || dry.Kept != 1 || dry.StreamEntries != 2 {
		t.Fatalf("dry run %+v %v", dry, err)
	}
	if _, err := in.GetTaskInfo(queue, done.TaskID()); err != nil {
		t.Fatalf("a dry run deleted a task: %v", err)
	}
	st, err := c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"})
	if err != nil || st.Records != 1 || st.Tasks != 1 || st.StaleIndexEntries != 1 || st.Kept != 1 || st.StreamEntries != 2 {
		t.Fatalf("purge %+v %v", st, err)
	}
	if _, err := in.GetTaskInfo(queue, done.TaskID()); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Fatalf("the archived task is still there: %v", err)
	}
	// The expired record's share of the counters stays (its state was
	// unknown when its index entry was dropped), as documented in purge.go.
	n, _ := c.Counts(ctx, "spring")
	if n.Enqueued != 1 || n.States[record.StateQueued] != 1 || n.States[record.StateDone] != 1 || n.Statuses["Success"] != 1 {
		t.Fatalf("counts after purge %+v: want the kept invite queued and the expired one still counted done", n)
	}
	// The last invite cancelled and purged: the campaign goes with it.
	if _, err := c.Cancel(ctx, "spring", queue); err != nil {
		t.Fatal(err)
	}
	st, err = c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"})
	if err != nil || len(st.CampaignsDeleted) != 1 {
		t.Fatalf("purge of the last invite %+v %v", st, err)
	}
	if ok, _ := c.CampaignKnown(ctx, "spring"); ok {
		t.Fatal("the empty campaign is still listed")
	}
	if _, err := c.Purge(ctx, queue, record.PurgeOptions{Campaign: "spring"}); !errors.Is(err, record.ErrUnknownCampaign) {
		t.Fatalf("purge of a deleted campaign: %v", err)
	}
}
