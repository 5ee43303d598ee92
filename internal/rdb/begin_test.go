package rdb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// openGate makes a sender's gate open as after its slow start: initialised,
// no pace, no slot ahead.
func openGate(t testing.TB, c *Client, sender string) {
	t.Helper()
	c.rdb.HSet(t.Context(), c.k.gate(sender), "until", 0, "interval", 0, "limited_ever", 0)
}

func TestBeginSendsAtOnceWhenTheGateIsOpen(t *testing.T) {
	c, conn := newTestClient(t)
	a, b := testInvite(t, "a@example.org"), testInvite(t, "b@example.org")
	register(t, c, record.RegisterOptions{}, &a, &b)
	p, err := c.Begin(t.Context(), a, BeginOptions{Send: true})
	if err != nil || p.Sent {
		t.Fatalf("begin with a new gate: %+v %v; want go, not sent (a new gate starts slowly)", p, err)
	}
	openGate(t, c, a.Sender)
	p, err = c.Begin(t.Context(), b, BeginOptions{Send: true})
	if err != nil || !p.Sent || p.ReservedAt == 0 || p.Campaign != "spring" {
		t.Fatalf("begin with an open gate: %+v %v; want sent", p, err)
	}
	rec := conn.HGetAll(t.Context(), c.k.invite(b.Key())).Val()
	if rec["state"] != "active" || rec["inflight"] != "1" || rec["requests"] != "1" || rec["task_id"] != b.TaskID() {
		t.Fatalf("record %v", rec)
	}
	if n := checkIdentity(t, c, "spring"); n.States[record.StateActive] != 2 || n.Requests != 1 {
		t.Fatalf("counts %+v", n)
	}
}

func TestBeginStaleFinalAndHeld(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	old, done, held := testInvite(t, "old@example.org"), testInvite(t, "done@example.org"), testInvite(t, "held@example.org")
	register(t, c, record.RegisterOptions{}, &old, &done, &held)
	conn.HSet(ctx, c.k.invite(old.Key()), "generation", 2)
	if _, err := c.Begin(ctx, old, BeginOptions{}); !errors.Is(err, ErrStale) {
		t.Fatalf("older task: %v, want ErrStale", err)
	}
	finishNow(t, c, done, record.Final{HTTPStatus: 200})
	if _, err := c.Begin(ctx, done, BeginOptions{}); !errors.Is(err, ErrDone) {
		t.Fatalf("finished invite: %v, want ErrDone", err)
	}
	if _, err := c.SetPause(ctx, record.PauseCampaign, "spring", record.PauseManual, "test"); err != nil {
		t.Fatal(err)
	}
	var paused *record.PausedError
	if _, err := c.Begin(ctx, held, BeginOptions{Send: true}); !errors.As(err, &paused) || paused.Scope != record.PauseCampaign {
		t.Fatalf("paused campaign: %v, want a campaign PausedError", err)
	}
	if n := checkIdentity(t, c, "spring"); n.States[record.StatePaused] != 1 || n.States[record.StateDone] != 1 || n.States[record.StateQueued] != 1 {
		t.Fatalf("counts %+v", n)
	}
}

// A record a worker left in flight (it died mid-request) counts one
// ambiguous attempt, and nothing is marked sent: the delivery re-checks.
func TestBeginTurnsALostRequestIntoAnAmbiguousAttempt(t *testing.T) {
	c, conn := newTestClient(t)
	inv := testInvite(t, "lost@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	openGate(t, c, inv.Sender)
	conn.HSet(t.Context(), c.k.invite(inv.Key()), "inflight", 1, "attempts", 1, "state", "active")
	conn.HIncrBy(t.Context(), c.k.counts("spring"), "state:queued", -1)
	conn.HIncrBy(t.Context(), c.k.counts("spring"), "state:active", 1)
	p, err := c.Begin(t.Context(), inv, BeginOptions{Send: true})
	if err != nil || p.Sent || p.Ambiguous != 1 {
		t.Fatalf("progress %+v %v; want 1 ambiguous attempt, not sent", p, err)
	}
	if a := conn.HGet(t.Context(), c.k.invite(inv.Key()), "attempts").Val(); a != "2" {
		t.Fatalf("attempts %s, want 2", a)
	}
	checkIdentity(t, c, "spring")
}

// A task enqueued without registration gets a record; a task naming
// another campaign than its invite's record moves that record's counters.
func TestBeginAdoptsAndFollowsTheRecordsCampaign(t *testing.T) {
	c, _ := newTestClient(t)
	adopted := testInvite(t, "adopted@example.org")
	p, err := c.Begin(t.Context(), adopted, BeginOptions{})
	if err != nil || p.Campaign != "spring" {
		t.Fatalf("adopt: %+v %v", p, err)
	}
	if n := checkIdentity(t, c, "spring"); n.Enqueued != 1 || n.States[record.StateActive] != 1 {
		t.Fatalf("counts %+v", n)
	}
	registered := testInviteIn(t, "first", "x@example.org")
	register(t, c, record.RegisterOptions{}, &registered)
	byHand := testInviteIn(t, "second", "x@example.org")
	p, err = c.Begin(t.Context(), byHand, BeginOptions{})
	if err != nil || p.Campaign != "first" {
		t.Fatalf("a task of another campaign: %+v %v; want the record's campaign", p, err)
	}
	if first, err := c.Finish(t.Context(), byHand, p, record.AttemptUpdate{Attempts: 1}, record.Final{FinishedAt: time.Now()}); err != nil || !first {
		t.Fatalf("finish: %v %v", first, err)
	}
	if n := checkIdentity(t, c, "first"); n.States[record.StateDone] != 1 {
		t.Fatalf("first %+v", n)
	}
	if n := checkIdentity(t, c, "second"); n.Enqueued != 0 {
		t.Fatalf("second %+v", n)
	}
}

// A task of a newer generation than its record replaces the record with
// one of its own (begin asks for the record's fields, which it omits
// while a record exists, and then forgets the old one).
func TestBeginReplacesAnOlderGeneration(t *testing.T) {
	c, conn := newTestClient(t)
	inv := testInvite(t, "again@example.org")
	register(t, c, record.RegisterOptions{}, &inv)
	finishNow(t, c, inv, record.Final{HTTPStatus: 200})
	inv.Generation++
	p, err := c.Begin(t.Context(), inv, BeginOptions{})
	if err != nil || p.Campaign != "spring" {
		t.Fatalf("newer generation: %+v %v", p, err)
	}
	h := conn.HGetAll(t.Context(), c.k.invite(inv.Key())).Val()
	if h["generation"] != "1" || h["state"] != string(record.StateActive) || h["address"] != "again@example.org" || h["status"] != "" {
		t.Fatalf("record %v: want generation 1, active, its fields, no status", h)
	}
	if n := checkIdentity(t, c, "spring"); n.States[record.StateActive] != 1 || n.States[record.StateDone] != 0 {
		t.Fatalf("counts %+v", n)
	}
}

// A task carrying only a reference (tasks.InviteRef) begins from its
// record: the invite comes back from the record, its request is marked in
// flight in the record's room when the gate is open, and a reference whose
// record is gone (purged, expired) or of an older generation gets ErrGone
// and writes nothing.
func TestBeginRefReadsTheInviteFromItsRecord(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	a, gone, older := testInvite(t, "a@example.org"), testInvite(t, "gone@example.org"), testInvite(t, "older@example.org")
	a.IDServer = "id.example.org"
	register(t, c, record.RegisterOptions{}, &a, &gone, &older)
	openGate(t, c, a.Sender)
	p, inv, err := c.BeginRef(ctx, a.Ref(), BeginOptions{Send: true})
	want := a
	want.EnqueuedAt = want.EnqueuedAt.Truncate(time.Millisecond) // the record's stamp
	if err != nil || !p.Sent || p.Campaign != "spring" || inv != want {
		t.Fatalf("BeginRef: %+v %+v %v; want sent, invite %+v", p, inv, err, want)
	}
	if rec := conn.HGetAll(ctx, c.k.invite(a.Key())).Val(); rec["state"] != "active" || rec["inflight"] != "1" {
		t.Fatalf("record %v", rec)
	}

	conn.Del(ctx, c.k.invite(gone.Key()))
	if _, _, err := c.BeginRef(ctx, gone.Ref(), BeginOptions{Send: true}); !errors.Is(err, ErrGone) {
		t.Fatalf("a reference without its record: %v, want ErrGone", err)
	}
	if n := conn.Exists(ctx, c.k.invite(gone.Key())).Val(); n != 0 {
		t.Fatal("a reference without its record created one")
	}
	ref := older.Ref()
	ref.Generation = 1 // the record is of generation 0
	if _, _, err := c.BeginRef(ctx, ref, BeginOptions{}); !errors.Is(err, ErrGone) {
		t.Fatalf("a reference newer than its record: %v, want ErrGone", err)
	}
	if st := conn.HGet(ctx, c.k.invite(older.Key()), "state").Val(); st != "queued" {
		t.Fatalf("the older record's state is %q, want it untouched (queued)", st)
	}
}

// A record that does not hash to the reference's key is not sent: the
// error says so and matches tasks.ErrInvalid (the worker drops the task).
func TestBeginRefRefusesARecordOfAnotherInvite(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	a := testInvite(t, "a@example.org")
	register(t, c, record.RegisterOptions{}, &a)
	conn.HSet(ctx, c.k.invite(a.Key()), "address", "mallory@example.org")
	if _, _, err := c.BeginRef(ctx, a.Ref(), BeginOptions{}); !errors.Is(err, tasks.ErrInvalid) || !strings.Contains(err.Error(), "key") {
		t.Fatalf("a record of another address: %v, want a key error", err)
	}
}
