package rdb

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// The funnel: finish counts deliveries and already-joined invitees, track
// counts registrations and joins once each, a left invitee is taken back,
// and a re-invite (a new generation) takes the record's share back.
func TestFunnelFinishTrackAndForget(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	mx, tp, aj, bad := testInvite(t, "mx@example.org"), testInvite(t, "tp@example.org"), testInvite(t, "aj@example.org"), testInvite(t, "x@example.org")
	register(t, c, record.RegisterOptions{}, &mx, &tp, &aj, &bad)
	for _, e := range []struct {
		inv tasks.Invite
		f   record.Final
	}{
		{mx, record.Final{Status: matrix.Success, Delivery: record.DeliveryUserID, UserID: "@mx:example.org"}},
		{tp, record.Final{Status: matrix.Success, Delivery: record.Delivery3PID}},
		{aj, record.Final{Status: matrix.Success, Delivery: record.DeliveryAlreadyJoined, UserID: "@aj:example.org", JoinedAt: time.Now()}},
		{bad, record.Final{Status: matrix.NotFound, Delivery: record.Delivery3PID}},
	} {
		p, err := c.Begin(ctx, e.inv, BeginOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.f.FinishedAt = time.Now()
		if _, err := c.Finish(ctx, e.inv, p, record.AttemptUpdate{}, e.f); err != nil {
			t.Fatal(err)
		}
	}
	n := checkIdentity(t, c, "spring")
	if n.Funnel != (record.Funnel{Sent: 2, Joined: 1}) || n.Deliveries[record.DeliveryAlreadyJoined] != 1 || n.Requests != 0 {
		t.Fatalf("after finish: %+v", n)
	}
	// tp's address is bound now and both it and mx joined; twice: counted once.
	seen := []Seen{{Key: tp.Key(), Bound: "@tp:example.org", Joined: SeenYes}, {Key: mx.Key(), Joined: SeenYes},
		{Key: aj.Key(), Joined: SeenYes}, {Key: bad.Key(), Bound: "@x:example.org", Joined: SeenYes}}
	for range 2 {
		if _, err := c.Track(ctx, "spring", seen); err != nil {
			t.Fatal(err)
		}
	}
	if f, _ := c.Funnel(ctx, "spring"); f != (record.Funnel{Sent: 2, Registered: 1, Joined: 3}) {
		t.Fatalf("after track: %+v (a failed invite is not tracked)", f)
	}
	r, _, _ := c.Get(ctx, tp.Key())
	if r.UserID != "@tp:example.org" || r.RegisteredAtMS == 0 || r.JoinedAtMS == 0 {
		t.Fatalf("tracked record %+v", r)
	}
	if r, _, _ := c.Get(ctx, mx.Key()); r.RegisteredAtMS != 0 || r.JoinedAtMS == 0 || r.Delivery != record.DeliveryUserID {
		t.Fatalf("invite by Matrix ID %+v: joined, never 'registered'", r)
	}
	// mx left; tp is re-invited (--again): its share goes with its record.
	if _, err := c.Track(ctx, "spring", []Seen{{Key: mx.Key(), Joined: SeenNo}}); err != nil {
		t.Fatal(err)
	}
	again := tp
	register(t, c, record.RegisterOptions{Again: true}, &again)
	n = checkIdentity(t, c, "spring")
	if n.Funnel != (record.Funnel{Sent: 1, Registered: 0, Joined: 1}) {
		t.Fatalf("after a leave and a re-invite: %+v", n.Funnel)
	}
}

// One path's 429 never slows the other: invites by Matrix ID and 3PID
// invites of one sender have a gate each (GateName), the same gate code.
func TestGatePerPath(t *testing.T) {
	g, conn := newTestClient(t)
	ctx := t.Context()
	inv := tasks.Invite{Sender: "s", Campaign: "c", RoomID: "!r:test"}
	conn.HSet(ctx, g.k.invite("k"), "campaign", "c")
	mxid := record.Progress{Key: "k", Campaign: "c", Path: record.PathMatrixID}
	threePID := record.Progress{Key: "k", Campaign: "c"}
	slot, err := g.Acquire(ctx, inv, mxid, time.Minute)
	if err != nil || !slot.Reserved {
		t.Fatalf("mxid slot %+v %v", slot, err)
	}
	if d, err := g.Limited(ctx, inv, mxid, 10*time.Second, slot.At, slot.At); err != nil || d.Scope != record.ScopeSender {
		t.Fatalf("mxid 429: %+v %v", d, err)
	}
	if s, _ := g.Acquire(ctx, inv, mxid, time.Minute); s.Reserved && s.Wait < 5*time.Second {
		t.Fatalf("the mxid gate did not close: %+v", s)
	}
	if s, _ := g.Acquire(ctx, inv, threePID, time.Minute); !s.Reserved || s.Wait > StartInterval {
		t.Fatalf("the 3PID gate waits for the other path's 429: %+v", s)
	}
	if conn.Exists(ctx, g.k.gate("s:mxid")).Val() != 1 || conn.HGet(ctx, g.k.gate("s"), "limited_ever").Val() == "1" {
		t.Fatal("gates not where GateName says")
	}
}
