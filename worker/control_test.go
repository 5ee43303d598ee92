package worker

import (
	"context"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

func TestCancelRemovesPendingAndKeepsResults(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	done := e.invite("done@example.org")
	e.enqueue(done, EnqueueOptions{})
	e.runUntilIdle(20 * time.Second)

	later := time.Now().Add(time.Hour)
	for _, a := range []string{"p1@example.org", "p2@example.org", "p3@example.org"} {
		e.enqueue(e.invite(a), EnqueueOptions{ProcessAt: later})
	}
	st, err := e.prod.Cancel(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	if st.Cancelled != 3 || st.Finished != 1 || st.InFlight != 0 {
		t.Fatalf("cancel stats %+v", st)
	}
	c, _ := e.prod.Store().Counts(context.Background(), "spring")
	if c.Pending() != 0 || c.Statuses["Success"] != 1 {
		t.Fatalf("counts after cancel %+v", c)
	}
	info, err := e.prod.inspector.GetQueueInfo(e.cfg.Queue)
	if err != nil || info.Scheduled != 0 {
		t.Fatalf("queue after cancel %+v (%v)", info, err)
	}
	e.wantResult(done, matrix.Success, 1)
	// A cancelled invite can be enqueued again.
	if v := e.enqueue(e.invite("p1@example.org"), EnqueueOptions{}); v != Registered {
		t.Fatalf("re-enqueue after cancel: %v", v)
	}
}

func TestRetryReenqueuesOneStatus(t *testing.T) {
	forbidden := answer{status: 403, body: `{"errcode":"M_FORBIDDEN"}`}
	notFound := answer{status: 404, body: `{"errcode":"M_NOT_FOUND"}`}
	hs := newFakeHS(t, forbidden, notFound)
	e := newEnv(t, hs.URL, func(c *Config) { c.Concurrency = 1 })
	a, b, ok := e.invite("a@example.org"), e.invite("b@example.org"), e.invite("ok@example.org")
	e.enqueue(a, EnqueueOptions{})
	e.enqueue(b, EnqueueOptions{})
	e.enqueue(ok, EnqueueOptions{})
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
