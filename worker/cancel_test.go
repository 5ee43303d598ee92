package worker

import (
	"context"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
)

// A cancelled invite whose task is still pending in asynq's queue (cancel
// leaves it there: removing it scans the whole list) is taken by a worker
// and ends at once: nothing is sent, the record stays cancelled, the counts
// stay exact and the queue drains.
func TestCancelledPendingTasksEndWithoutSending(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	ctx := context.Background()
	invs := e.enqueueN(5)
	st, err := e.prod.Cancel(ctx, "spring")
	if err != nil || st.Cancelled != 5 {
		t.Fatalf("cancel: %+v %v", st, err)
	}
	if info, err := e.inspector().GetQueueInfo(e.queueOf("spring")); err != nil || info.Pending != 5 {
		t.Fatalf("queue after cancel %+v (%v): want the 5 tasks still pending", info, err)
	}
	e.runUntilIdle(20 * time.Second)
	if n := len(hs.seen()); n != 0 {
		t.Fatalf("the server saw %d invites of a cancelled campaign", n)
	}
	for _, inv := range invs {
		if r := e.result(inv); r.State != record.StateCancelled || r.Requests != 0 {
			t.Fatalf("%s: state %q after %d requests, want cancelled, none", inv.Address, r.State, r.Requests)
		}
	}
	c, err := e.prod.Store().Counts(ctx, "spring")
	if err != nil || c.States[record.StateCancelled] != 5 || c.InStates() != 5 || c.Pending() != 0 || c.Requests != 0 {
		t.Fatalf("counts %+v (%v): want 5 cancelled, nothing else", c, err)
	}
}
