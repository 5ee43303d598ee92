package rdb

import (
	"fmt"
	"strings"
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

// accept records the invite's final, accepted answer to a request sent at r.
func (e *scopeEnv) accept(inv tasks.Invite, p record.Progress, r int64) {
	e.t.Helper()
	u := record.AttemptUpdate{Attempts: 1, Accepted: true, SentAt: r}
	if _, err := e.c.Finish(e.t.Context(), inv, p, u, success()); err != nil {
		e.t.Fatal(err)
	}
}

// limit records a 429 with advice to the invite's request reserved and
// sent at r.
func (e *scopeEnv) limit(inv tasks.Invite, p record.Progress, advice time.Duration, r int64) record.LimitScope {
	e.t.Helper()
	d, err := e.c.Limited(e.t.Context(), inv, p, advice, r, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.Scope
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

// A 429 with no evidence and no history of the sender's 429s turning out
// to be invitees' holds every invite of the sender for its advice: no
// request goes before the advised time.
func TestGuessWithoutHistoryHoldsForTheAdvice(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	if s := e.limit(a, pa, 300*time.Millisecond, nowMS()); s != record.ScopeSender {
		t.Fatalf("scope %q", s)
	}
	time.Sleep(ProbeDelay + 20*time.Millisecond)
	sl, err := e.c.Acquire(t.Context(), c, pc, time.Minute)
	if err != nil || sl.Sent || (sl.Reserved && sl.Wait < 200*time.Millisecond) {
		t.Fatalf("a request went inside the block: %+v %v", sl, err)
	}
}

// When the sender's recent 429s turned out to be its invitees' on
// evidence, a 429 without evidence gets the benefit of the doubt (the
// invitee's: nothing else is held), until another invite's 429 names the
// same next free time: then the limit is the sender's for good — unless
// both invites were answered 429 before (their own limits, retried at
// their advice): invitees limited on their own meet by chance.
func TestBenefitOfTheDoubt(t *testing.T) {
	for _, tc := range []struct {
		name          string
		limitedBefore bool
		want          record.LimitScope
	}{
		{"fresh invites: the sender's", false, record.ScopeSender},
		{"two invites limited before: a chance meeting", true, record.ScopeInvitee},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newScopeEnv(t)
			a, pa := e.invite("a@example.org", "!r:test")
			b, pb := e.invite("b@example.org", "!r:test")
			c, pc := e.invite("c@example.org", "!r:test")
			x, px := e.invite("x@example.org", "!r:test")
			y, py := e.invite("y@example.org", "!r:test")
			if tc.limitedBefore {
				pa.First429, pb.First429 = time.Now().Add(-time.Second), time.Now().Add(-time.Second)
			}
			r0 := nowMS() - 1000
			e.accept(y, py, r0+100)
			if s := e.limit(x, px, time.Minute, r0); s != record.ScopeInvitee {
				t.Fatalf("a 429 with evidence: %q, want invitee", s)
			}
			r := nowMS() - 100
			if s := e.limit(a, pa, 300*time.Millisecond, r); s != record.ScopeInvitee {
				t.Fatalf("no evidence, recent invitee limits: %q, want invitee", s)
			}
			if !e.free(c, pc) {
				t.Fatal("the benefit of the doubt held the sender")
			}
			// Another invite sent 50 ms later, advised 250 ms: the same next free time.
			if s := e.limit(b, pb, 250*time.Millisecond, r+50); s != tc.want {
				t.Fatalf("a second 429 naming the same time: %q, want %q", s, tc.want)
			}
			sure := e.c.rdb.HGet(t.Context(), e.c.k.gate("s"), "lim_sure").Val() == "1"
			if sure != (tc.want == record.ScopeSender) || e.free(c, pc) == sure {
				t.Fatalf("sender limit confirmed %v, sender free %v; want confirmed and held only for %q", sure, e.free(c, pc), record.ScopeSender)
			}
		})
	}
}

// The benefit of the doubt lasts DoubtRun 429s without new evidence: a
// run of evidence-free 429s of different invites, each with its own next
// free time, is then held as the sender's (a guess), so one misread piece
// of evidence cannot pass a sender limit off as its invitees' for long.
func TestBenefitOfTheDoubtRunsOut(t *testing.T) {
	e := newScopeEnv(t)
	x, px := e.invite("x@example.org", "!r:test")
	y, py := e.invite("y@example.org", "!r:test")
	r0 := nowMS() - 1000
	e.accept(y, py, r0+100)
	if s := e.limit(x, px, time.Minute, r0); s != record.ScopeInvitee {
		t.Fatalf("a 429 with evidence: %q, want invitee", s)
	}
	for i := range DoubtRun + 1 {
		inv, p := e.invite(fmt.Sprintf("d%d@example.org", i), "!r:test")
		// Each sent 300 ms after the last one's window: no agreement.
		s := e.limit(inv, p, 200*time.Millisecond, nowMS()-2000+int64(i)*300)
		want := record.ScopeInvitee
		if i == DoubtRun {
			want = record.ScopeSender
		}
		if s != want {
			t.Fatalf("evidence-free 429 #%d: %q, want %q", i+1, s, want)
		}
	}
}

// A guess whose answer came after its advice counted from the request (as
// Synapse answers, 0.5 s later, with an advice counted from before the
// pause) lets one probe through after ProbeDelay: not early by the
// server's clock. The sender is held while it is out; accepted, it ends
// the hold (without counting as evidence that the 429 was the invitee's).
func TestGuessProbesWhenTheAnswerCameAfterTheAdvice(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	d, pd := e.invite("d@example.org", "!r:test")
	r := nowMS() - 500 // sent half a second ago, advised 300 ms
	if s := e.limit(a, pa, 300*time.Millisecond, r); s != record.ScopeSender {
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
	e.accept(c, pc, probe.At)
	if !e.free(d, pd) {
		t.Fatal("the accepted probe did not end the hold")
	}
	if e.c.rdb.HExists(t.Context(), e.c.k.gate("s"), "inv_at").Val() {
		t.Fatal("a probe accepted after the server's window counted as evidence")
	}
}

// A guess whose answer came before its advice had passed (no pause), with
// no history, holds the sender for the advice: no probe, nothing early.
func TestGuessWithoutPauseHoldsForTheAdvice(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	if s := e.limit(a, pa, 400*time.Millisecond, nowMS()); s != record.ScopeSender {
		t.Fatalf("scope %q", s)
	}
	time.Sleep(ProbeDelay + 30*time.Millisecond)
	if e.free(c, pc) {
		t.Fatal("a request went inside the advised time")
	}
}

// Under a sender's token bucket the sender's requests are accepted between
// two 429s of one invite: that is no evidence. Only a request accepted
// inside the new 429's own window is.
func TestRepeatedLimitOfOneInviteNeedsEvidenceInItsWindow(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	b, pb := e.invite("b@example.org", "!r:test")
	r := nowMS() - 5000
	if s := e.limit(a, pa, 400*time.Millisecond, r); s != record.ScopeSender {
		t.Fatalf("first 429, no evidence: %q, want sender", s)
	}
	e.accept(b, pb, r+1000) // the bucket's next token, after the window
	if s := e.limit(a, pa, 400*time.Millisecond, r+1100); s != record.ScopeSender {
		t.Fatalf("second 429 of the invite, nothing accepted in its window: %q, want sender", s)
	}
}

// What counts is when requests went out, not when their slots were
// reserved: a request reserved before a 429's but sent inside its window
// and accepted is evidence; one reserved after it but sent after the
// window is not.
func TestEvidenceComparesSendTimes(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	b, pb := e.invite("b@example.org", "!r:test")
	r := nowMS() - 5000
	// b reserved at r+20 (after a's reservation at r) but sent at r+500,
	// after the window: no evidence.
	if _, err := e.c.Finish(t.Context(), b, pb, record.AttemptUpdate{Attempts: 1, Accepted: true, SentAt: r + 500}, success()); err != nil {
		t.Fatal(err)
	}
	d, err := e.c.Limited(t.Context(), a, pa, 400*time.Millisecond, r, r+50)
	if err != nil || d.Scope != record.ScopeSender {
		t.Fatalf("%+v (%v), want sender: the accepted request went out after the window", d, err)
	}
	c, pc := e.invite("c@example.org", "!r:test")
	x, px := e.invite("x@example.org", "!r:test")
	r2 := nowMS() - 2000
	if _, err := e.c.Finish(t.Context(), x, px, record.AttemptUpdate{Attempts: 1, Accepted: true, SentAt: r2 + 200}, success()); err != nil {
		t.Fatal(err)
	}
	// c reserved long before, sent at r2+100: x accepted at r2+200 is inside.
	d, err = e.c.Limited(t.Context(), c, pc, 400*time.Millisecond, r2-1000, r2+100)
	if err != nil || d.Scope != record.ScopeInvitee {
		t.Fatalf("%+v (%v), want invitee", d, err)
	}
}

// After a provisional sender block the first request takes the token a
// sender limit would have given and a second goes right behind it: if the
// second is accepted the guess is undone (pace included); if refused, the
// limit is the sender's for good.
func TestCheckAfterAProvisionalBlock(t *testing.T) {
	for _, refused := range []bool{false, true} {
		e := newScopeEnv(t)
		a, pa := e.invite("a@example.org", "!r:test")
		x, px := e.invite("x@example.org", "!r:test")
		y, py := e.invite("y@example.org", "!r:test")
		z, pz := e.invite("z@example.org", "!r:test")
		conn, gate := e.c.rdb, e.c.k.gate("s")
		before := conn.HGet(t.Context(), gate, "interval").Val()
		if s := e.limit(a, pa, 150*time.Millisecond, nowMS()); s != record.ScopeSender {
			t.Fatalf("no evidence: %q, want sender", s)
		}
		// Nothing was due inside the block (no probe went). After it, x
		// goes first: it takes the token a sender limit would have.
		time.Sleep(160 * time.Millisecond)
		first, err := e.c.Acquire(t.Context(), x, px, time.Minute)
		if err != nil || !first.Reserved {
			t.Fatalf("first request after the block: %+v %v", first, err)
		}
		time.Sleep(first.Wait)
		if !first.Sent {
			if _, _, _, err := e.c.Send(t.Context(), x, px); err != nil {
				t.Fatal(err)
			}
		}
		// The check goes just past the first one's margin.
		second, err := e.c.Acquire(t.Context(), y, py, time.Minute)
		if err == nil && second.Later && second.Wait <= 20*time.Millisecond {
			time.Sleep(second.Wait)
			second, err = e.c.Acquire(t.Context(), y, py, time.Minute)
		}
		if err != nil || !second.Sent {
			t.Fatalf("the check did not go right behind the first: %+v %v", second, err)
		}
		if e.free(z, pz) {
			t.Fatal("a third request went before the check's answer")
		}
		if refused {
			if s := e.limit(y, py, 140*time.Millisecond, second.At); s != record.ScopeSender {
				t.Fatalf("the check's 429: %q, want sender", s)
			}
			if sure := conn.HGet(t.Context(), gate, "lim_sure").Val(); sure != "1" {
				t.Fatal("a refused check did not confirm the sender's limit")
			}
			continue
		}
		e.accept(y, py, second.At)
		if conn.HExists(t.Context(), gate, "lim_by").Val() {
			t.Fatal("an accepted check left the provisional block")
		}
		if got := conn.HGet(t.Context(), gate, "interval").Val(); got != before {
			t.Fatalf("pace after the undone guess %q, want %q as before it", got, before)
		}
		if !e.free(z, pz) {
			t.Fatal("the sender is still held after its guess was undone")
		}
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

// When 429s stop the pace speeds up again (after PaceQuiet, by a tenth
// first, then faster each PaceStep), and a 429 while it does — whenever its
// request was reserved — sets it back to the pace that worked.
func TestPaceSpeedsUpAndFallsBackToTheOneThatWorked(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	c, pc := e.invite("c@example.org", "!r:test")
	conn, gate := e.c.rdb, e.c.k.gate("s")
	conn.HSet(t.Context(), gate, "limited_ever", 1, "interval", 400, "until", 0, "blocked_until", 0,
		"quiet_since", nowMS()-PaceQuiet.Milliseconds()-1, "pace_set_at", 0)
	want := []string{"360", "288", "172", "86"}
	for i, w := range want {
		if i > 0 {
			conn.HSet(t.Context(), gate, "step_at", nowMS()-1, "until", 0)
		}
		if _, err := e.c.Acquire(t.Context(), c, pc, time.Minute); err != nil {
			t.Fatal(err)
		}
		if g := conn.HGet(t.Context(), gate, "interval").Val(); g != w {
			t.Fatalf("step %d: interval %v, want %v", i+1, g, w)
		}
	}
	if g := conn.HGet(t.Context(), gate, "good").Val(); g != "400" {
		t.Fatalf("good %v, want 400 (the pace that held for the quiet time)", g)
	}
	set, _ := conn.HGet(t.Context(), gate, "pace_set_at").Int64()
	// Reserved before the last step, limited after it: still back.
	e.limit(a, pa, 50*time.Millisecond, set-1)
	if iv := conn.HGet(t.Context(), gate, "interval").Val(); iv != "400" {
		t.Fatalf("a 429 while speeding up: interval %s, want back to 400", iv)
	}
	if conn.HExists(t.Context(), gate, "step_n").Val() {
		t.Fatal("the gentle steps did not start over after the 429")
	}
}

// TestScopeLuaConstants checks that the Lua of the evidence rules states
// the Go constants it names.
func TestScopeLuaConstants(t *testing.T) {
	want := fmt.Sprintf("local DOUBT_RUN = %d ", DoubtRun)
	if !strings.Contains(luaScope, want) {
		t.Fatalf("luaScope does not say %q", want)
	}
}

// The sender's pace follows what the server accepted: between two sender
// 429s the bucket was empty, so the requests accepted in between bound its
// interval (TestPaceSpeedsUp… has the other half: a faster pace falls back).
// A pace right at the server's rate that meets one early 429 moves to that
// spacing, not a tenth slower; a 429 within one pace of the last is the same
// episode and does not move it.
func TestPaceFollowsTheAcceptedSpacing(t *testing.T) {
	e := newScopeEnv(t)
	a, pa := e.invite("a@example.org", "!r:test")
	conn, gate := e.c.rdb, e.c.k.gate("s")
	s0 := nowMS() - 20000
	conn.HSet(t.Context(), gate, "limited_ever", 1, "interval", 400, "until", 0, "blocked_until", 0,
		"quiet_since", s0-1, "pace_set_at", s0+1)
	// Reserved before the pace was set: it does not move it, but it is the
	// start of the evidence.
	if s := e.limit(a, pa, 300*time.Millisecond, s0); s != record.ScopeSender {
		t.Fatalf("first 429: scope %q, want sender (within the pace of a known limit)", s)
	}
	for k := 1; k <= 30; k++ {
		inv, p := e.invite(fmt.Sprintf("ok%d@example.org", k), "!r:test")
		e.accept(inv, p, s0+int64(400*k))
	}
	if n := conn.HGet(t.Context(), gate, "sl_n").Val(); n != "30" {
		t.Fatalf("accepted since the limit: %s, want 30", n)
	}
	conn.HSet(t.Context(), gate, "pace_set_at", s0+1, "until", 0, "blocked_until", 0)
	b, pb := e.invite("b@example.org", "!r:test")
	s1 := s0 + 12400
	if s := e.limit(b, pb, 300*time.Millisecond, s1); s != record.ScopeSender {
		t.Fatalf("second 429: scope %q, want sender", s)
	}
	// 30 accepted in 12.4 s: the interval is at most 12400/29 = 428 ms.
	if iv := conn.HGet(t.Context(), gate, "interval").Val(); iv != "428" {
		t.Fatalf("interval %s after a 429 at the pace, want 428 (the accepted spacing, not 440)", iv)
	}
	c, pc := e.invite("c@example.org", "!r:test")
	if _, err := e.c.Limited(t.Context(), c, pc, 300*time.Millisecond, nowMS(), s1+100); err != nil {
		t.Fatal(err)
	}
	if iv := conn.HGet(t.Context(), gate, "interval").Val(); iv != "428" {
		t.Fatalf("interval %s after a 429 100 ms after the last, want still 428 (same episode)", iv)
	}
}
