package worker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

var serverError = answer{status: 500, body: `{"errcode":"M_UNKNOWN","error":"identity server failed"}`}

func TestSuccessPersisted(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	inv := e.invite("alice@example.org")
	if v := e.enqueue(inv, producer.Options{}); v != record.Registered {
		t.Fatalf("verdict %v, want registered", v)
	}
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.Success, 1)
	if r.Requests != 1 || r.HTTPStatus != 200 || r.RateLimited != 0 || r.FinishedAt.IsZero() || r.TaskID != inv.TaskID() {
		t.Fatalf("record %+v", r)
	}
	seen := hs.seen()
	if len(seen) != 1 || seen[0].address != "alice@example.org" {
		t.Fatalf("server saw %+v", seen)
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	hs := newFakeHS(t, serverError)
	e := newEnv(t, hs.URL)
	inv := e.invite("bob@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.Success, 2)
	seen := hs.seen()
	if len(seen) != 2 {
		t.Fatalf("server saw %d invite requests, want 2", len(seen))
	}
	if gap := seen[1].at.Sub(seen[0].at); gap < e.cfg.Policy.Waits[0] {
		t.Fatalf("second request %s after the first, want at least the first interval %s", gap, e.cfg.Policy.Waits[0])
	}
	// The 500 may have emailed the invitee: the success is flagged.
	if !r.PossibleDuplicate || r.Requests != 2 {
		t.Fatalf("possible_duplicate %v requests %d; want true, 2", r.PossibleDuplicate, r.Requests)
	}
	if hs.rechecks == 0 {
		t.Fatal("the retry after a 500 was sent without re-checking membership")
	}
}

func TestFourServerErrorsEndNetworkError(t *testing.T) {
	hs := newFakeHS(t, serverError, serverError, serverError, serverError, okAnswer)
	e := newEnv(t, hs.URL)
	inv := e.invite("carol@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.NetworkError, 4)
	if len(hs.seen()) != 4 || r.HTTPStatus != 500 || r.ErrCode != "M_UNKNOWN" {
		t.Fatalf("server saw %d requests; record %+v", len(hs.seen()), r)
	}
}

func TestForbiddenIsFinalAfterOneAttempt(t *testing.T) {
	hs := newFakeHS(t, answer{status: 403, body: `{"errcode":"M_FORBIDDEN","error":"You are not invited to this room."}`})
	e := newEnv(t, hs.URL)
	inv := e.invite("dave@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.ContentAccessError, 1)
	if len(hs.seen()) != 1 || r.ErrCode != "M_FORBIDDEN" || r.Error != "You are not invited to this room." {
		t.Fatalf("server saw %d requests; record %+v", len(hs.seen()), r)
	}
}

func TestRateLimitedThenSuccess(t *testing.T) {
	hs := newFakeHS(t, answer{status: 429, body: `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":300}`})
	// No retries at all: the 429 must not count as one.
	e := newEnv(t, hs.URL, func(c *Config) { c.Policy.MaxRetries = 0 })
	inv := e.invite("erin@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.Success, 2)
	seen := hs.seen()
	if len(seen) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(seen))
	}
	if gap := seen[1].at.Sub(seen[0].at); gap < 300*time.Millisecond {
		t.Fatalf("second request %s after the 429, want at least 300ms", gap)
	}
	if r.RateLimited != 1 || r.PossibleDuplicate {
		t.Fatalf("rate_limited %d possible_duplicate %v; want 1, false", r.RateLimited, r.PossibleDuplicate)
	}
}

func TestRateLimitGivesUpAfterMaxWait(t *testing.T) {
	limited := answer{status: 429, body: `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":100}`}
	hs := newFakeHS(t, limited, limited, limited, limited, limited, limited, limited, limited)
	e := newEnv(t, hs.URL, func(c *Config) { c.MaxRateLimitWait = 250 * time.Millisecond })
	inv := e.invite("frank@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.result(inv)
	if r.StatusCode != matrix.TooManyRequests || r.RateLimited < 3 || r.RateLimited != r.Attempts {
		t.Fatalf("record %+v; want TooManyRequests after a few 429s", r)
	}
}

func TestSameInviteEnqueuedTwiceIsOneRequest(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	inv := e.invite("grace@example.org")
	if v := e.enqueue(inv, producer.Options{}); v != record.Registered {
		t.Fatalf("first verdict %v", v)
	}
	if v := e.enqueue(e.invite("grace@EXAMPLE.org"), producer.Options{}); v != record.AlreadyPending {
		t.Fatalf("second verdict %v, want already pending", v)
	}
	e.runUntilIdle(20 * time.Second)
	e.wantResult(inv, matrix.Success, 1)
	if v := e.enqueue(inv, producer.Options{}); v != record.AlreadyDone {
		t.Fatalf("verdict after success %v, want already done", v)
	}
	e.runUntilIdle(20 * time.Second)
	if n := len(hs.seen()); n != 1 {
		t.Fatalf("server saw %d invite requests, want 1", n)
	}
}

func TestRedeliveredSucceededInviteIsNotSentAgain(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	inv := e.invite("heidi@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.wantResult(inv, matrix.Success, 1)

	// At-least-once delivery: the same task arrives again (here enqueued
	// behind the producer's back, as a redelivery would).
	task, err := inv.Task(asynq.Queue(e.cfg.Queue))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(e.rdb).Enqueue(task); err != nil {
		t.Fatalf("re-enqueue: %v", err)
	}
	e.runUntilIdle(20 * time.Second)
	if n := len(hs.seen()); n != 1 {
		t.Fatalf("server saw %d invite requests, want 1", n)
	}
	e.wantResult(inv, matrix.Success, 1)
}

func TestAgainReinvitesAsNewGeneration(t *testing.T) {
	hs := newFakeHS(t, answer{status: 403, body: `{"errcode":"M_FORBIDDEN"}`})
	e := newEnv(t, hs.URL)
	inv := e.invite("ivan@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.wantResult(inv, matrix.ContentAccessError, 1)

	if v := e.enqueue(inv, producer.Options{Again: true}); v != record.Registered {
		t.Fatalf("verdict with again %v", v)
	}
	e.runUntilIdle(20 * time.Second)
	r := e.wantResult(inv, matrix.Success, 1)
	if r.Generation != 1 || r.TaskID != inv.TaskID()+":g1" {
		t.Fatalf("generation %d task %s", r.Generation, r.TaskID)
	}
	c, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	if c.Statuses["Success"] != 1 || c.Statuses["ContentAccessError"] != 0 || c.Enqueued != 1 || c.States[record.StateDone] != 1 {
		// One invite: the re-invite replaced its first generation.
		t.Fatalf("counts %+v", c)
	}
}

func TestShutdownMidRunLosesNothing(t *testing.T) {
	var script []answer
	for range 40 {
		script = append(script, answer{status: 200, body: `{}`, delay: 50 * time.Millisecond})
	}
	hs := newFakeHS(t, script...)
	e := newEnv(t, hs.URL, func(c *Config) { c.ShutdownTimeout = 5 * time.Second })
	var invs = make([]any, 0)
	for i := range 40 {
		inv := e.invite(fmt.Sprintf("user%02d@example.org", i))
		invs = append(invs, inv)
		e.enqueue(inv, producer.Options{})
	}
	w := e.newWorker()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(hs.seen()) < 5 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	w.Shutdown() // what SIGTERM does in `mxinvite worker`
	if len(hs.seen()) >= 40 {
		t.Fatal("the worker finished everything before the shutdown; the test proves nothing")
	}
	e.runUntilIdle(30 * time.Second) // a replacement worker

	c, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	if c.Statuses["Success"] != 40 || c.Pending() != 0 {
		t.Fatalf("after shutdown and restart: %+v", c)
	}
	if n := len(hs.seen()); n != 40 {
		t.Fatalf("server saw %d invite requests for 40 invites", n)
	}
}

// A task enqueued with plain asynq (no producer registration) gets its
// record and counters from the worker itself.
func TestUnregisteredTaskGetsARecord(t *testing.T) {
	hs := newFakeHS(t)
	e := newEnv(t, hs.URL)
	inv := e.invite("nina@example.org")
	task, err := inv.Task(asynq.Queue(e.cfg.Queue))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asynq.NewClientFromRedisClient(e.rdb).Enqueue(task); err != nil {
		t.Fatal(err)
	}
	e.runUntilIdle(20 * time.Second)
	r := e.wantResult(inv, matrix.Success, 1)
	c, err := e.prod.Store().Counts(context.Background(), "spring")
	if err != nil {
		t.Fatal(err)
	}
	if r.TaskID != inv.TaskID() || r.Campaign != "spring" || c.Enqueued != 1 || c.States[record.StateDone] != 1 || c.Pending() != 0 {
		t.Fatalf("record %+v, counts %+v", r, c)
	}
}
