package rdb

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redistest"
)

// TestAsynqTaskAsAsynqWritesIt: EnqueueTasks writes a task, pending or
// scheduled, byte for byte as asynq's client writes it (message, state,
// list or set, queue set), asynq's Inspector reads it back with its
// options, and a second write of the same ID is a conflict that changes
// nothing.
func TestAsynqTaskAsAsynqWritesIt(t *testing.T) {
	ctx := context.Background()
	c, conn := newTestClient(t)
	queue := redistest.Unique(t, "q")
	ac := asynq.NewClientFromRedisClient(conn)
	in := asynq.NewInspectorFromRedisClient(conn)
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	cases := []struct {
		name string
		opts []asynq.Option
	}{
		{"pending", []asynq.Option{asynq.TaskID("inv:a"), asynq.Queue(queue), asynq.MaxRetry(25)}},
		{"scheduled", []asynq.Option{asynq.TaskID("inv:b:g1"), asynq.Queue(queue), asynq.MaxRetry(25), asynq.ProcessAt(later)}},
		{"options", []asynq.Option{asynq.Queue("other"), asynq.TaskID("inv:c"), asynq.Queue(queue), asynq.MaxRetry(3),
			asynq.Timeout(time.Minute), asynq.Deadline(later), asynq.Retention(time.Hour)}},
		{"no retry", []asynq.Option{asynq.TaskID("inv:d"), asynq.Queue(queue), asynq.MaxRetry(0)}},
	}
	payload := []byte(`{"campaign":"spring","address":"a@example.org"}`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := ac.EnqueueContext(ctx, asynq.NewTask("invite:3pid", payload, tc.opts...))
			if err != nil {
				t.Fatal(err)
			}
			theirs := readAsynqTask(t, conn, queue, info.ID)
			if _, err := conn.Del(ctx, asynqTask(queue, info.ID)).Result(); err != nil {
				t.Fatal(err)
			}
			conn.LRem(ctx, asynqList(queue, asynqPending), 0, info.ID)
			conn.ZRem(ctx, asynqZset(queue, asynqScheduled), info.ID)
			conn.SRem(ctx, asynqQueues, queue)

			task, err := NewAsynqTask("invite:3pid", payload, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			written, err := c.EnqueueTasks(ctx, []AsynqTask{task})
			if err != nil || len(written) != 1 || !written[0] {
				t.Fatalf("EnqueueTasks: %v %v", written, err)
			}
			ours := readAsynqTask(t, conn, queue, info.ID)
			if !bytes.Equal([]byte(ours.msg), []byte(theirs.msg)) {
				t.Errorf("message\n ours   %x\n asynq's %x", ours.msg, theirs.msg)
			}
			ours.msg, theirs.msg = "", ""
			if ours.pendingSince != "" && theirs.pendingSince != "" {
				ours.pendingSince, theirs.pendingSince = "set", "set"
			}
			if ours != theirs {
				t.Errorf("stored\n ours    %+v\n asynq's %+v", ours, theirs)
			}
			got, err := in.GetTaskInfo(queue, info.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != info.Type || !bytes.Equal(got.Payload, info.Payload) || got.MaxRetry != info.MaxRetry ||
				got.Timeout != info.Timeout || !got.Deadline.Equal(info.Deadline) || got.Retention != info.Retention ||
				got.State != info.State || got.Queue != info.Queue {
				t.Errorf("Inspector reads\n %+v\nasynq's client wrote\n %+v", got, info)
			}
			again, err := c.EnqueueTasks(ctx, []AsynqTask{task})
			if err != nil || len(again) != 1 || again[0] {
				t.Errorf("a second write of the same ID: %v %v, want a conflict", again, err)
			}
			if n := conn.LLen(ctx, asynqList(queue, asynqPending)).Val() + conn.ZCard(ctx, asynqZset(queue, asynqScheduled)).Val(); n != 1 {
				t.Errorf("%d entries in the pending list and scheduled set after the conflict, want 1", n)
			}
			conn.Del(ctx, asynqTask(queue, info.ID), asynqList(queue, asynqPending), asynqZset(queue, asynqScheduled))
		})
	}
	for _, bad := range [][]asynq.Option{{asynq.Queue(queue)}, {asynq.TaskID("x"), asynq.Unique(time.Minute)}, {asynq.TaskID("x"), asynq.Group("g")}} {
		if _, err := NewAsynqTask("invite:3pid", payload, bad...); err == nil {
			t.Errorf("NewAsynqTask(%v): no error", bad)
		}
	}
}

// storedTask is what Redis holds of one asynq task.
type storedTask struct {
	msg, state, pendingSince string
	inPending                bool
	score                    float64
	queueListed              bool
}

func readAsynqTask(t *testing.T, conn *redis.Client, queue, id string) storedTask {
	t.Helper()
	ctx := context.Background()
	h, err := conn.HGetAll(ctx, asynqTask(queue, id)).Result()
	if err != nil {
		t.Fatal(err)
	}
	s := storedTask{msg: h["msg"], state: h["state"], pendingSince: h["pending_since"]}
	ids, _ := conn.LRange(ctx, asynqList(queue, asynqPending), 0, -1).Result()
	for _, x := range ids {
		s.inPending = s.inPending || x == id
	}
	s.score, _ = conn.ZScore(ctx, asynqZset(queue, asynqScheduled), id).Result()
	s.queueListed, _ = conn.SIsMember(ctx, asynqQueues, queue).Result()
	return s
}

// TestEnqueueTasksAlsoIn: a task whose ID exists in the other queue named
// for it (the base queue of an earlier release) is not written again in
// its lane; without AlsoIn it is.
func TestEnqueueTasksAlsoIn(t *testing.T) {
	ctx := context.Background()
	c, conn := newTestClient(t)
	base, lane := redistest.Unique(t, "base"), redistest.Unique(t, "lane")
	old, err := NewAsynqTask("invite:3pid", []byte(`{}`), asynq.TaskID("inv:x"), asynq.Queue(base))
	if err != nil {
		t.Fatal(err)
	}
	if w, err := c.EnqueueTasks(ctx, []AsynqTask{old}); err != nil || !w[0] {
		t.Fatalf("the earlier release's task: %v %v", w, err)
	}
	inLane, err := NewAsynqTask("invite:3pid", []byte(`{}`), asynq.TaskID("inv:x"), asynq.Queue(lane))
	if err != nil {
		t.Fatal(err)
	}
	inLane.AlsoIn = base
	if w, err := c.EnqueueTasks(ctx, []AsynqTask{inLane}); err != nil || w[0] {
		t.Fatalf("with the task in the base queue: %v %v, want not written", w, err)
	}
	if n := conn.Exists(ctx, asynqTask(lane, "inv:x")).Val(); n != 0 {
		t.Fatal("the lane got a second task")
	}
	inLane.AlsoIn = ""
	if w, err := c.EnqueueTasks(ctx, []AsynqTask{inLane}); err != nil || !w[0] {
		t.Fatalf("without AlsoIn: %v %v, want written", w, err)
	}
}
