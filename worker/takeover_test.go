package worker

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// A second delivery of an invite this process is delivering (a takeover's
// re-delivery beside the delivery it replaced) waits: it is handed back
// without beginning, and nothing is sent.
func TestASecondDeliveryOfAnInviteHeldHereWaits(t *testing.T) {
	hs := newFakeHS(t)
	h, l := newFakeHandler(t, hs)
	task, inv := inviteTask(t, "a@example.org")
	if !h.holding.take(inv.Key()) {
		t.Fatal("take of a free invite refused")
	}
	err := h.ProcessTask(t.Context(), task)
	var hb *handBackError
	if !errors.As(err, &hb) || !hb.recorded || len(hs.seen()) != 0 || len(l.finals) != 0 {
		t.Fatalf("second delivery: %v, %d requests, finals %+v; want a hand-back and nothing sent", err, len(hs.seen()), l.finals)
	}
	h.holding.release(inv.Key())
	if err := h.ProcessTask(t.Context(), task); err != nil || len(hs.seen()) != 1 {
		t.Fatalf("once released: %v, %d requests; want one, sent", err, len(hs.seen()))
	}
}

// An invite Redis says this worker holds, in flight, but that no delivery
// of this process holds (its delivery lost Redis before it could record the
// answer: a failover, a restart) is re-delivered by the worker itself within
// seconds, as an ambiguous attempt, under the same record; the original
// task then finds it done and sends nothing.
func TestAWorkerReDeliversAnInviteCutOffFromIt(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{})
	ctx := t.Context()
	inv := e.inviteTo(simulator.DefaultRoomID, "cut@example.org")
	e.enqueue(inv, producer.Options{ProcessAt: time.Now().Add(time.Hour)}) // its task waits in asynq
	w := e.newWorker()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Shutdown()
	own := rdb.New(e.rdb, rdb.Options{Prefix: e.cfg.KeyPrefix, WorkerID: w.ID()})
	if _, err := own.Begin(ctx, inv, rdb.BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	e.rdb.HSet(ctx, e.cfg.KeyPrefix+":invite:"+inv.Key(), "inflight", "1")

	for i := 0; i < 300 && !e.result(inv).Final(); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	r := e.wantResultCode(inv, matrix.Success)
	if !strings.Contains(r.TaskID, ":r") || !r.PossibleDuplicate || sim.Stats().Accepted != 1 {
		t.Fatalf("result %+v, accepted %d; want a re-delivery's Success flagged possible_duplicate, one invite", r, sim.Stats().Accepted)
	}
	if err := e.inspector().RunTask(e.queueOf(inv.Campaign), inv.TaskID()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if idle, _ := e.store().QueuesIdle(t.Context(), []string{e.queueOf(inv.Campaign)}); idle {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if idle, _ := e.store().QueuesIdle(t.Context(), []string{e.queueOf(inv.Campaign)}); !idle || sim.Stats().InviteRequests != 1 {
		t.Fatalf("after the original task ran: queue idle %v, %d invite requests; want idle, 1", idle, sim.Stats().InviteRequests)
	}
}
