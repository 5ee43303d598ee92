package worker

import (
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// The producer's tasks carry only a reference to their records
// (tasks.InviteRef), while a plain asynq producer's and an earlier
// release's carry the whole invite: one worker sends both, each once, to
// the address its record names.
func TestReferenceAndWholeTasksTogether(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	refs := e.invitesIn("spring", "ref0@example.org", "ref1@example.org", "ref2@example.org")
	for _, inv := range refs {
		if v := e.enqueue(inv, producer.Options{}); v != record.Registered {
			t.Fatalf("verdict %v", v)
		}
	}
	pending, err := e.inspector().ListPendingTasks(e.queueOf("spring"))
	if err != nil || len(pending) != len(refs) {
		t.Fatalf("pending %d tasks (%v), want %d", len(pending), err, len(refs))
	}
	for _, p := range pending {
		d, err := tasks.DecodeDelivery(p.ID, p.Payload)
		if err != nil || d.Whole != nil || len(p.Payload) > 64 {
			t.Fatalf("the producer's task %s carries %s (%v), want a reference", p.ID, p.Payload, err)
		}
	}
	whole := e.invitesIn("spring", "whole@example.org")[0]
	task, err := whole.Task(asynq.Queue(e.cfg.Queue))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(e.rdb).Enqueue(task); err != nil {
		t.Fatal(err)
	}

	e.runUntilIdle(30 * time.Second)
	for _, inv := range append(refs, whole) {
		e.wantResult(inv, matrix.Success, 1)
	}
	var seen []string
	for _, r := range hs.seen() {
		seen = append(seen, r.address)
	}
	slices.Sort(seen)
	if want := []string{"ref0@example.org", "ref1@example.org", "ref2@example.org", "whole@example.org"}; !slices.Equal(seen, want) {
		t.Fatalf("server saw %v, want %v", seen, want)
	}
}

// A reference delivered again after its finished invite was purged finds
// no record: nothing is sent and no record comes back (a whole task would
// make one, as for a task no producer registered).
func TestReferenceOfAPurgedInviteIsNotSent(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	inv := e.invitesIn("spring", "gone@example.org")[0]
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.wantResult(inv, matrix.Success, 1)
	if st := e.purge(record.PurgeOptions{Campaign: "spring"}); st.Records != 1 {
		t.Fatalf("purge %+v", st)
	}

	payload, err := inv.Ref().Payload()
	if err != nil {
		t.Fatal(err)
	}
	// At-least-once delivery: the task arrives again (enqueued here
	// behind the producer's back, as a redelivery would).
	task := asynq.NewTask(tasks.TypeInvite3PID, payload)
	if _, err := asynq.NewClientFromRedisClient(e.rdb).Enqueue(task, inv.TaskOptions(asynq.Queue(e.cfg.Queue))...); err != nil {
		t.Fatal(err)
	}
	e.runUntilIdle(20 * time.Second)
	if n := len(hs.seen()); n != 1 {
		t.Fatalf("server saw %d requests, want only the first delivery's", n)
	}
	if _, ok, err := e.store().Get(t.Context(), inv.Key()); ok || err != nil {
		t.Fatalf("the purged invite's record is back (%v)", err)
	}
	if n := e.archived(); n != 0 {
		t.Fatalf("%d tasks archived, want the reference done with", n)
	}
}

// Mid-upgrade: while a worker of an earlier release is alive (it beats
// into the workers set, not the set of workers reading references), the
// producer's tasks carry whole invites, which it can read; once it is
// gone, references.
func TestProducerSendsWholeInvitesWhileAnEarlierWorkerLives(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	workers := e.cfg.KeyPrefix + ":workers"
	e.rdb.ZAdd(t.Context(), workers, redis.Z{Score: float64(time.Now().Add(time.Hour).UnixMilli()), Member: "old-worker"})
	early := e.invitesIn("spring", "early@example.org")[0]
	e.enqueue(early, producer.Options{})
	e.rdb.ZRem(t.Context(), workers, "old-worker")
	late := e.invitesIn("spring", "late@example.org")[0]
	// A producer of its own: e.prod trusts its last look for a beat.
	if _, err := producer.New(e.store(), e.cfg.Queue).Enqueue(t.Context(), late, producer.Options{}); err != nil {
		t.Fatal(err)
	}
	pending, err := e.inspector().ListPendingTasks(e.queueOf("spring"))
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending %d tasks (%v), want 2", len(pending), err)
	}
	whole := map[string]bool{}
	for _, p := range pending {
		d, err := tasks.DecodeDelivery(p.ID, p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		whole[p.ID] = d.Whole != nil
	}
	if !whole[early.TaskID()] || whole[late.TaskID()] {
		t.Fatalf("whole payloads %v: want %s's whole (an earlier worker was alive), %s's a reference", whole, early.TaskID(), late.TaskID())
	}
	e.runUntilIdle(20 * time.Second)
	e.wantResult(early, matrix.Success, 1)
	e.wantResult(late, matrix.Success, 1)
}
