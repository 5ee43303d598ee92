package worker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

func TestCancelRemovesPendingAndKeepsResults(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	done := e.invite("done@example.org")
	e.enqueue(done, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	later := time.Now().Add(time.Hour)
	for _, a := range []string{"p1@example.org", "p2@example.org", "p3@example.org"} {
		e.enqueue(e.invite(a), producer.Options{ProcessAt: later})
	}
	st, err := e.prod.Cancel(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	if st.Cancelled != 3 || st.Finished != 1 || st.InFlight != 0 {
		t.Fatalf("cancel stats %+v", st)
	}
	c, _ := e.prod.Store().Counts(context.Background(), "spring")
	if c.Pending() != 0 || c.Statuses["Success"] != 1 || c.States[record.StateCancelled] != 3 || c.Enqueued != 4 || c.InStates() != 4 {
		t.Fatalf("counts after cancel %+v, want 4 invites: 1 done, 3 cancelled", c)
	}
	if r := e.result(e.invite("p1@example.org")); r.State != record.StateCancelled {
		t.Fatalf("record after cancel: state %q, want cancelled", r.State)
	}
	if again, _ := e.prod.Cancel(context.Background(), "spring"); again.Cancelled != 0 || again.AlreadyCancelled != 3 {
		t.Fatalf("second cancel %+v, want 3 already cancelled", again)
	}
	info, err := e.inspector().GetQueueInfo(e.queueOf("spring"))
	if err != nil || info.Scheduled != 0 {
		t.Fatalf("queue after cancel %+v (%v)", info, err)
	}
	e.wantResult(done, matrix.Success, 1)
	// A cancelled invite can be enqueued again, as a new generation.
	if v := e.enqueue(e.invite("p1@example.org"), producer.Options{}); v != record.Registered {
		t.Fatalf("re-enqueue after cancel: %v", v)
	}
	if r := e.result(e.invite("p1@example.org")); r.State != record.StateQueued || r.Generation != 1 {
		t.Fatalf("re-enqueued record: state %q generation %d, want queued 1", r.State, r.Generation)
	}
	c, _ = e.prod.Store().Counts(context.Background(), "spring")
	if c.Enqueued != 4 || c.States[record.StateCancelled] != 2 || c.States[record.StateQueued] != 1 || c.InStates() != 4 {
		t.Fatalf("counts after re-enqueue %+v", c)
	}
}

func TestRetryReenqueuesOneStatus(t *testing.T) {
	forbidden := answer{status: 403, body: `{"errcode":"M_FORBIDDEN"}`}
	notFound := answer{status: 404, body: `{"errcode":"M_NOT_FOUND"}`}
	hs := newFakeHS(t, forbidden, notFound)
	e := newEnv(t, hs.URL, func(c *Config) { c.Concurrency = 1 })
	a, b, ok := e.invite("a@example.org"), e.invite("b@example.org"), e.invite("ok@example.org")
	// One after the other: the fake server answers in the order it is
	// asked, and a lane may have two invites under way (one waiting for
	// the sender's slot) whichever asks first.
	e.enqueue(a, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.enqueue(b, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.enqueue(ok, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.wantResult(a, matrix.ContentAccessError, 1)
	e.wantResult(b, matrix.NotFound, 1)

	st, err := e.prod.Retry(context.Background(), "spring", matrix.ContentAccessError)
	if err != nil || st.Enqueued != 1 {
		t.Fatalf("retry stats %+v (%v)", st, err)
	}
	e.runUntilIdle(20 * time.Second)
	e.wantResult(a, matrix.Success, 1)
	e.wantResult(b, matrix.NotFound, 1)
	if n := len(hs.seen()); n != 4 {
		t.Fatalf("server saw %d requests, want 4 (3 + the retried one)", n)
	}
	if _, err := e.prod.Retry(context.Background(), "spring", matrix.Success); err == nil {
		t.Fatal("retrying Success invites must be refused")
	}
}

// A cancelled invite is never sent by a delivery of its old generation, and
// enqueued again it keeps the ambiguous attempts it had before the cancel:
// the next delivery re-checks, and its success is a possible duplicate.
func TestCancelledInviteKeepsItsAmbiguousAttempts(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	ctx := context.Background()
	inv := e.invite("maybe@example.org")
	e.enqueue(inv, producer.Options{ProcessAt: time.Now().Add(time.Hour)})
	// As an attempt whose answer was lost would have left it.
	if err := e.rdb.HSet(ctx, e.cfg.KeyPrefix+":invite:"+inv.Key(), "ambiguous", 1).Err(); err != nil {
		t.Fatal(err)
	}
	if st, err := e.prod.Cancel(ctx, "spring"); err != nil || st.Cancelled != 1 {
		t.Fatalf("cancel: %+v %v", st, err)
	}
	if _, err := e.prod.Store().Begin(ctx, inv, rdb.BeginOptions{}); !errors.Is(err, rdb.ErrDone) {
		t.Fatalf("begin of the cancelled generation: %v, want ErrDone (never sent)", err)
	}
	if v := e.enqueue(inv, producer.Options{}); v != record.Registered {
		t.Fatalf("re-enqueue after cancel: %v", v)
	}
	e.runUntilIdle(20 * time.Second)
	r := e.wantResult(inv, matrix.Success, 1)
	if r.Generation != 1 || !r.PossibleDuplicate {
		t.Fatalf("generation %d possible_duplicate %v, want 1 true", r.Generation, r.PossibleDuplicate)
	}
	hs.mu.Lock()
	rechecks, sent := hs.rechecks, len(hs.invites)
	hs.mu.Unlock()
	if rechecks != 1 || sent != 1 {
		t.Fatalf("%d re-checks and %d invite requests, want 1 and 1", rechecks, sent)
	}
	c, _ := e.prod.Store().Counts(ctx, "spring")
	if c.Enqueued != 1 || c.States[record.StateDone] != 1 || c.PossibleDuplicates != 1 || c.InStates() != 1 {
		t.Fatalf("counts %+v", c)
	}
}
