package worker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// A homeserver with 3PID lookups disabled answers every 3PID invite 403
// M_UNKNOWN: the campaign pauses at once (not after the breaker's five),
// nothing is final, nobody was emailed; resumed once the server is fixed,
// every invite goes out.
func TestThreePIDLookupOffPausesTheCampaignAtOnce(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{ThreePIDLookupDisabled: true})
	invs := e.enqueueTo(simulator.DefaultRoomID, "off", 12)
	held := e.runHeld(30 * time.Second)
	if len(held.Pauses) != 1 || held.Pauses[0].Scope != record.PauseCampaign || held.Pauses[0].Kind != record.PauseBreaker {
		t.Fatalf("pauses %+v, want the campaign's", held.Pauses)
	}
	st := sim.Stats()
	if st.Accepted != 0 || st.InviteRequests > int64(e.cfg.Concurrency) {
		t.Fatalf("%d accepted, %d requests before the pause; want 0 and at most the concurrency (%d)", st.Accepted, st.InviteRequests, e.cfg.Concurrency)
	}
	c, _ := e.store().Counts(context.Background(), "spring")
	if c.States[record.StateDone] != 0 || c.States[record.StatePaused] == 0 {
		t.Fatalf("counts %+v: want nothing final, invites paused", c)
	}
	sim.SetThreePIDLookupDisabled(false)
	if _, err := e.prod.Resume(context.Background(), record.PauseCampaign, "spring"); err != nil {
		t.Fatal(err)
	}
	e.runUntilIdle(60 * time.Second)
	for _, inv := range invs {
		e.wantResultCode(inv, matrix.Success)
	}
	if st := sim.Stats(); st.Accepted != 12 || st.Duplicates != 0 {
		t.Fatalf("%d accepted, %d duplicates after the resume", st.Accepted, st.Duplicates)
	}
}

// An invitee who blocks invites (the unstable MSC4155 code) ends its
// invite at once, ContentAccessError, and never trips the campaign's
// breaker, however many such invitees come first.
func TestInviteBlockedIsFinalAndNotTheCampaigns(t *testing.T) {
	var bindings []simulator.Binding
	for i := range 6 {
		bindings = append(bindings, simulator.Binding{Address: fmt.Sprintf("blocks%d@example.org", i),
			UserID: fmt.Sprintf("@blocks%d:sim.local", i), BlocksInvites: true})
	}
	e, sim := newSimEnv(t, simulator.Config{Bindings: bindings, InviteBlockedCode: simulator.InviteBlockedUnstable},
		func(c *Config) { c.Concurrency = 1 })
	blocked := e.enqueueTo(simulator.DefaultRoomID, "blocks", 6)
	open := e.enqueueTo(simulator.DefaultRoomID, "open", 4)
	e.runUntilIdle(30 * time.Second)
	for _, inv := range blocked {
		r := e.wantResult(inv, matrix.ContentAccessError, 1)
		if r.ErrCode != string(matrix.MSC4155InviteBlocked) || r.Requests != 1 {
			t.Fatalf("%s: errcode %s, %d requests", inv.Address, r.ErrCode, r.Requests)
		}
	}
	for _, inv := range open {
		e.wantResultCode(inv, matrix.Success)
	}
	if p, _ := e.store().PauseOf(context.Background(), "spring", ""); p != nil {
		t.Fatalf("the campaign was paused: %+v", p)
	}
	if n := sim.Stats().InviteeRefusals["invite_blocked"]; n != 6 {
		t.Fatalf("the simulator refused %d invites as blocked, want 6", n)
	}
}

// With resolve-first off, a 3PID invite of an address bound to someone in
// the room already is refused 403 "… is already in the room.": that
// person's answer, not the campaign's. Six such invites first in the list
// do not trip the breaker (default 5): the invites after them go out.
func TestAlreadyInTheRoomIsNotTheCampaigns(t *testing.T) {
	room := simulator.DefaultRoom()
	var bindings []simulator.Binding
	for i := range 6 {
		user := fmt.Sprintf("@member%d:sim.local", i)
		bindings = append(bindings, simulator.Binding{Address: fmt.Sprintf("member%d@example.org", i), UserID: user})
		room.Members[user] = "join"
	}
	e, _ := newSimEnv(t, simulator.Config{Rooms: []simulator.Room{room}, Bindings: bindings},
		func(c *Config) { c.Concurrency = 1; c.NoLookup = true })
	members := e.enqueueTo(simulator.DefaultRoomID, "member", 6)
	open := e.enqueueTo(simulator.DefaultRoomID, "open", 4)
	e.runUntilIdle(30 * time.Second)
	for _, inv := range members {
		e.wantResult(inv, matrix.ContentAccessError, 1)
	}
	for _, inv := range open {
		e.wantResultCode(inv, matrix.Success)
	}
	if p, _ := e.store().PauseOf(context.Background(), "spring", ""); p != nil {
		t.Fatalf("the campaign was paused: %+v", p)
	}
}
