package rdb

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
)

func TestAttemptMovesStateAndCounts(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	inv := testInvite(t, "a@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	openGate(t, c, inv.Sender)
	p, err := c.Begin(ctx, inv, BeginOptions{Send: true})
	if err != nil || !p.Sent {
		t.Fatalf("begin: %+v %v", p, err)
	}
	next := time.Now().Add(time.Minute)
	u := record.AttemptUpdate{Attempts: 1, RequestsDelta: 1, RateLimited: 1, Last: &record.LastAttempt{
		Retries: 1, NotBefore: next, Status: matrix.TooManyRequests, HTTPStatus: 429, Error: "slow down"}}
	if err := c.Attempt(ctx, inv, p, record.StateRetrying, u); err != nil {
		t.Fatal(err)
	}
	rec := conn.HGetAll(ctx, c.k.invite(inv.Key())).Val()
	if rec["state"] != "retrying" || rec["inflight"] != "0" || rec["attempts"] != "1" || rec["requests"] != "2" ||
		rec["rate_limited"] != "1" || rec["last_status"] != "TooManyRequests" || rec["not_before_ms"] == "0" {
		t.Fatalf("record %v", rec)
	}
	n := checkIdentity(t, c, "spring")
	if n.States[record.StateRetrying] != 1 || n.Requests != 2 || n.RateLimited != 1 {
		t.Fatalf("counts %+v", n)
	}
	if _, err := c.Begin(ctx, inv, BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []record.State{record.StateActive, record.StatePaused} {
		if err := c.Attempt(ctx, inv, p, s, record.AttemptUpdate{}); err != nil {
			t.Fatalf("into %s: %v", s, err)
		}
		checkIdentity(t, c, "spring")
		if _, err := c.Begin(ctx, inv, BeginOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Attempt(ctx, inv, p, record.StateQueued, record.AttemptUpdate{RequestsDelta: -1}); err != nil {
		t.Fatal(err)
	}
	if n := checkIdentity(t, c, "spring"); n.States[record.StateQueued] != 1 || n.Requests != 1 {
		t.Fatalf("after an abandoned delivery: %+v", n)
	}
	if err := c.Attempt(ctx, inv, p, record.StateDone, record.AttemptUpdate{}); err == nil {
		t.Fatal("an attempt into done (the finish's job) was accepted")
	}
}

// Once final, an attempt writes nothing (a late answer of a delivery that
// was overtaken).
func TestAttemptAfterTheFinalWritesNothing(t *testing.T) {
	c, conn := newTestClient(t)
	inv := testInvite(t, "a@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	finishNow(t, c, inv, record.Final{HTTPStatus: 200})
	p := record.Progress{Key: inv.Key(), Campaign: inv.Campaign}
	if err := c.Attempt(t.Context(), inv, p, record.StateRetrying, record.AttemptUpdate{Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	if s := conn.HGet(t.Context(), c.k.invite(inv.Key()), "state").Val(); s != "done" {
		t.Fatalf("state %s", s)
	}
	checkIdentity(t, c, "spring")
}
