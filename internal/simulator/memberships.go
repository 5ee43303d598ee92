package simulator

import (
	"fmt"
	"net/http"
	"reflect"
)

// memberOutcome is what became of an invite of an account into a room,
// decided by [roomStore.invite] in Synapse's order.
type memberOutcome int

const (
	// memberInvited: the account's membership is now "invite".
	memberInvited memberOutcome = iota
	// memberRepeated: the same sender had already invited the account
	// with the same content; Synapse answers 200 and makes no new event.
	memberRepeated
	// memberUnknownRoom: no such room.
	memberUnknownRoom
	// memberBanned: the invitee is banned (Synapse's 403 M_BAD_STATE).
	memberBanned
	// memberInviterNotJoined: the inviter is not joined to the room.
	memberInviterNotJoined
	// memberAlreadyJoined: the invitee is joined already.
	memberAlreadyJoined
	// memberNoPower: the inviter lacks the invite power level.
	memberNoPower
)

// invite applies the membership rules of an invite of target by sender
// and, when they pass, makes target's membership "invite" with content.
// The order is Synapse's: update_membership_locked refuses a banned
// invitee and treats a repeat of the sender's own invite as done, then
// the event-auth rules check the inviter's membership, the invitee's
// (joined: refused) and the inviter's power level.
func (rs *roomStore) invite(roomID, sender, target string, content map[string]any) memberOutcome {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st, ok := rs.rooms[roomID]
	if !ok {
		return memberUnknownRoom
	}
	room := st.room
	old := room.Members[target]
	switch {
	case old == "ban":
		return memberBanned
	case old == "invite" && st.repeats(target, sender, content):
		return memberRepeated
	case room.Members[sender] != "join":
		return memberInviterNotJoined
	case old == "join":
		return memberAlreadyJoined
	case room.powerLevel(sender) < room.InviteLevel:
		return memberNoPower
	}
	st.set(target, "invite", sender, content)
	return memberInvited
}

// repeats reports whether target's current event was sent by sender with
// content: Synapse's "duplicate event" test.
func (st *roomState) repeats(target, sender string, content map[string]any) bool {
	ev, ok := st.events[target]
	return ok && ev.sender == sender && reflect.DeepEqual(ev.content, content)
}

// set records target's membership and the event that made it. content
// must hold "membership"; it is kept, so it must not change later.
func (st *roomState) set(target, membership, sender string, content map[string]any) {
	st.room.Members[target] = membership
	st.events[target] = memberEvent{sender: sender, content: content}
}

// exchange turns a pending third-party invite into target's membership
// "invite", sent by the original inviter, as Synapse's
// exchange_third_party_invite does when the identity server reports a
// bind. The event-auth rules of an invite carrying third_party_invite
// refuse only a banned invitee: like Synapse, an account already joined
// becomes "invite" again. It reports whether the membership was made.
func (rs *roomStore) exchange(roomID, sender, target string, content map[string]any) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st, ok := rs.rooms[roomID]
	if !ok || st.room.Members[target] == "ban" {
		return false
	}
	st.set(target, "invite", sender, content)
	return true
}

// setMembership sets userID's membership in roomID as its own event (a
// join, a leave) or, for the control paths, any membership.
func (rs *roomStore) setMembership(roomID, userID, membership string) error {
	if !validID(userID, '@') {
		return fmt.Errorf("simulator: %q is not a user ID (@local:server)", userID)
	}
	if !validMembership(membership) {
		return fmt.Errorf("simulator: membership %q is not one of join, invite, leave, ban, knock", membership)
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st, ok := rs.rooms[roomID]
	if !ok {
		return fmt.Errorf("simulator: no room %q", roomID)
	}
	if membership == "join" && st.room.Members[userID] == "ban" {
		return fmt.Errorf("simulator: %s is banned from %s", userID, roomID)
	}
	st.set(userID, membership, userID, map[string]any{"membership": membership})
	return nil
}

// membership returns userID's membership in roomID ("" for none) and
// whether the room exists.
func (rs *roomStore) membership(roomID, userID string) (string, bool) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	st, ok := rs.rooms[roomID]
	if !ok {
		return "", false
	}
	return st.room.Members[userID], true
}

// Join makes userID (any account: one with an access token, a bound one,
// or any other user ID) a joined member of roomID, as if the user had
// accepted an invite or joined a public room. A banned user cannot join.
// Counted in Stats.Joins.
func (s *Server) Join(roomID, userID string) error {
	if err := s.rooms.setMembership(roomID, userID, "join"); err != nil {
		return err
	}
	s.rec.count(func(st *Stats) { st.Joins++ })
	return nil
}

// SetMembership sets userID's membership in roomID to one of "join",
// "invite", "leave", "ban" or "knock", as the user's own event (to ban an
// invitee or make someone leave during a test). It is not counted.
func (s *Server) SetMembership(roomID, userID, membership string) error {
	return s.rooms.setMembership(roomID, userID, membership)
}

// Membership returns userID's current membership in roomID ("" when the
// user has none); ok is false when there is no such room.
func (s *Server) Membership(roomID, userID string) (membership string, ok bool) {
	return s.rooms.membership(roomID, userID)
}

// handleMembers serves GET /rooms/{roomId}/members: {"chunk": [the
// m.room.member events]}, filtered by ?membership= (only that one) and
// ?not_membership= (all but that one), each join, invite, leave, ban or
// knock; another value is refused with 400 M_INVALID_PARAM, as Synapse's
// parse_string with allowed values does.
func (s *Server) handleMembers(w http.ResponseWriter, r *http.Request) {
	room, ok := s.visibleRoom(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	only, not := q.Get("membership"), q.Get("not_membership")
	for _, p := range []struct{ name, v string }{{"membership", only}, {"not_membership", not}} {
		if p.v != "" && !validMembership(p.v) {
			writeError(w, http.StatusBadRequest, "M_INVALID_PARAM",
				fmt.Sprintf("Query parameter %q must be one of [join, invite, leave, ban, knock]", p.name))
			return
		}
	}
	chunk := []stateEvent{}
	for _, ev := range s.stateEvents(room) {
		m := room.Members[ev.StateKey]
		if ev.Type != "m.room.member" || (only != "" && m != only) || (not != "" && m == not) {
			continue
		}
		chunk = append(chunk, ev)
	}
	writeJSON(w, http.StatusOK, map[string]any{"chunk": chunk})
}
