package rdb

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// scopeEnv is a sender "s" with invites into rooms, registered and begun,
// and helpers to answer them as a server would.
type scopeEnv struct {
	t *testing.T
	c *Client
}

func newScopeEnv(t *testing.T) *scopeEnv {
	c, _ := newTestClient(t)
	// A gate past its slow start, open: no pace, never limited yet.
	openGate(t, c, "s")
	return &scopeEnv{t: t, c: c}
}

// invite is a begun invite of sender s into room.
func (e *scopeEnv) invite(address, room string) (tasks.Invite, record.Progress) {
	e.t.Helper()
	inv := testInvite(e.t, address)
	inv.Sender, inv.RoomID = "s", room
	register(e.t, e.c, record.RegisterOptions{}, &inv)
	p, err := e.c.Begin(e.t.Context(), inv, BeginOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return inv, p
}

// accept records the invite's final, accepted answer to a request reserved at r.
func (e *scopeEnv) accept(inv tasks.Invite, p record.Progress, r int64) {
	e.t.Helper()
	u := record.AttemptUpdate{Attempts: 1, Accepted: true, ReservedAt: r}
	if _, err := e.c.Finish(e.t.Context(), inv, p, u, success()); err != nil {
		e.t.Fatal(err)
	}
}

// limit records a 429 with advice to the invite's request reserved at r.
func (e *scopeEnv) limit(inv tasks.Invite, p record.Progress, advice time.Duration, r int64) record.LimitScope {
	e.t.Helper()
	scope, _, err := e.c.Limited(e.t.Context(), inv, p, advice, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return scope
}

// free reports whether a request of inv may go now.
func (e *scopeEnv) free(inv tasks.Invite, p record.Progress) bool {
	e.t.Helper()
	s, err := e.c.Acquire(e.t.Context(), inv, p, time.Minute)
	if err != nil {
		e.t.Fatal(err)
	}
	return s.Sent || (s.Reserved && s.Wait < 50*time.Millisecond)
}

func nowMS() int64 { return time.Now().UnixMilli() }

// An accepted request of the sender reserved inside a 429's window proves
// the 429 was not the sender's: the invite's own.
func TestLimitWithEvidenceIsTheInvitees(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("popular@example.org", "!r:test")
	b, pb := e.invite("b@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	r := nowMS() - 1000
	e.accept(b, pb, r+200)
	if s := e.limit(a, pa, 2*time.Minute, r); s != record.ScopeInvitee {
		t.Fatalf("scope %q, want invitee", s)
	}
	if !e.free(c, pc) {
		t.Fatal("another invite of the sender is held by an invitee's 429")
	}
}

// Without evidence a 429 is the sender's: the gate closes (nothing early),
// and the first accepted request that contradicts it undoes it, pace
// included.
func TestProvisionalSenderBlockIsUndoneByEvidence(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	b, pb := e.invite("b@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	r := nowMS()
	if s := e.limit(a, pa, time.Second, r); s != record.ScopeSender {
		t.Fatalf("scope %q, want the sender's (no evidence)", s)
	}
	if e.free(c, pc) {
		t.Fatal("the sender's gate did not close on a 429 of unknown scope")
	}
	before := e.c.rdb.HGet(t.Context(), e.c.k.gate("s"), "lim_p_interval").Val()
	e.accept(b, pb, r+200) // in flight when the 429 came, accepted
	if !e.free(c, pc) {
		t.Fatal("an accepted request inside the 429's window did not undo the provisional block")
	}
	if iv := e.c.rdb.HGet(t.Context(), e.c.k.gate("s"), "interval").Val(); iv != before {
		t.Fatalf("interval %s after the undo, want %s (no ratchet)", iv, before)
	}
}

// A long advice with no evidence lets one probe through after ProbeDelay;
// the probe refused too makes the block the sender's for good.
func TestLongAdviceProbeConfirmsTheSender(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	d, pd := e.invite("d@example.org", "!r:test")
	r := nowMS()
	if s := e.limit(a, pa, time.Minute, r); s != record.ScopeSender {
		t.Fatalf("scope %q", s)
	}
	if e.free(c, pc) {
		t.Fatal("the probe went before ProbeDelay")
	}
	time.Sleep(ProbeDelay + 20*time.Millisecond)
	probe, err := e.c.Acquire(t.Context(), c, pc, time.Minute)
	if err != nil || !probe.Sent {
		t.Fatalf("no probe after ProbeDelay: %+v %v", probe, err)
	}
	if e.free(d, pd) {
		t.Fatal("a second request went while the probe was out")
	}
	if s := e.limit(c, pc, time.Minute, probe.At); s != record.ScopeSender {
		t.Fatalf("the probe's 429: %q, want the sender's", s)
	}
	if sure := e.c.rdb.HGet(t.Context(), e.c.k.gate("s"), "lim_sure").Val(); sure != "1" {
		t.Fatal("the refused probe did not confirm the sender's limit")
	}
	b, pb := e.invite("b@example.org", "!r:test")
	e.accept(b, pb, r+500)
	if e.free(d, pd) {
		t.Fatal("a confirmed sender block was undone")
	}
}

// A 429 of an invite limited before, with the sender's requests accepted
// since, is the invite's own at once.
func TestRepeatedLimitOfOneInviteIsItsOwn(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	b, pb := e.invite("b@example.org", "!r:test")
	r := nowMS() - 5000
	pa.LastLimited = r
	e.accept(b, pb, r+1000)
	if s := e.limit(a, pa, 100*time.Millisecond, nowMS()); s != record.ScopeInvitee {
		t.Fatalf("scope %q, want invitee", s)
	}
}

// Invites into one room limited while the sender's invites into another
// are accepted: the room is held, the other room is not.
func TestRoomScope(t *testing.T) {
	e := newScopeEnv(t)
	a1, pa1 := e.invite("a1@example.org", "!hot:test")
	a2, pa2 := e.invite("a2@example.org", "!hot:test")
	a3, pa3 := e.invite("a3@example.org", "!hot:test")
	b, pb := e.invite("b@example.org", "!calm:test")
	b2, pb2 := e.invite("b2@example.org", "!calm:test")
	r := nowMS() - 1000
	e.accept(b, pb, r+300) // the sender flows, into the other room
	if s := e.limit(a1, pa1, 10*time.Second, r); s != record.ScopeInvitee {
		t.Fatalf("first 429 into the room: %q, want invitee (one invite says nothing of its room)", s)
	}
	if s := e.limit(a2, pa2, 10*time.Second, r+100); s != record.ScopeRoom {
		t.Fatalf("second 429 into the room, nothing into it accepted: %q, want room", s)
	}
	if e.free(a3, pa3) {
		t.Fatal("an invite into the held room went")
	}
	if !e.free(b2, pb2) {
		t.Fatal("an invite into another room was held")
	}
}

// When 429s stop the pace speeds up again (halving after PaceQuiet), and a
// 429 while it does sets it back to the pace that worked.
func TestPaceSpeedsUpAndFallsBackToTheOneThatWorked(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	conn, gate := e.c.rdb, e.c.k.gate("s")
	conn.HSet(t.Context(), gate, "limited_ever", 1, "interval", 400, "until", 0, "blocked_until", 0,
		"quiet_since", nowMS()-PaceQuiet.Milliseconds()-1, "pace_set_at", 0)
	if _, err := e.c.Acquire(t.Context(), c, pc, time.Minute); err != nil {
		t.Fatal(err)
	}
	g := conn.HMGet(t.Context(), gate, "interval", "good").Val()
	if g[0] != "200" || g[1] != "400" {
		t.Fatalf("after PaceQuiet: interval %v good %v, want 200 and 400", g[0], g[1])
	}
	set, _ := conn.HGet(t.Context(), gate, "pace_set_at").Int64()
	e.limit(a, pa, 150*time.Millisecond, set+1)
	if iv := conn.HGet(t.Context(), gate, "interval").Val(); iv != "400" {
		t.Fatalf("a 429 at the faster pace: interval %s, want back to 400", iv)
	}
}
