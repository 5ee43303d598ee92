package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"
)

// handleWhoami serves GET /account/whoami.
func (s *Server) handleWhoami(w http.ResponseWriter, r *http.Request) {
	u, ok := s.accounts.user(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_id": u.UserID, "device_id": u.DeviceID, "is_guest": false})
}

// handleDirectory serves GET /directory/room/{roomAlias}. Like Synapse it
// needs no access token.
func (s *Server) handleDirectory(w http.ResponseWriter, r *http.Request) {
	alias := r.PathValue("roomAlias")
	if !validID(alias, '#') {
		writeError(w, http.StatusBadRequest, "M_INVALID_PARAM", fmt.Sprintf("Invalid room alias %q", alias))
		return
	}
	id, ok := s.rooms.resolve(alias)
	if !ok {
		writeError(w, http.StatusNotFound, "M_NOT_FOUND", fmt.Sprintf("Room alias %s not found", alias))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"room_id": id, "servers": []string{s.cfg.ServerName}})
}

// visibleRoom authenticates the request and returns its room when the
// requester may read the room's state. Like Synapse, a room the requester
// is not in (or has never been in) and a room that does not exist get the
// same 403, so that room existence does not leak.
func (s *Server) visibleRoom(w http.ResponseWriter, r *http.Request) (roomView, bool) {
	u, ok := s.accounts.user(w, r)
	if !ok {
		return roomView{}, false
	}
	id := r.PathValue("roomId")
	room, ok := s.rooms.get(id)
	if m := room.Members[u.UserID]; !ok || (m != "join" && m != "leave") {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN",
			fmt.Sprintf("User %s not in room %s, and room previews are disabled", u.UserID, id))
		return roomView{}, false
	}
	return room, true
}

// handleState serves GET /rooms/{roomId}/state: the full current state.
func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	if room, ok := s.visibleRoom(w, r); ok {
		writeJSON(w, http.StatusOK, s.stateEvents(room))
	}
}

// handleStateEvent serves GET /rooms/{roomId}/state/{eventType}[/{stateKey}]:
// the content of one state event.
func (s *Server) handleStateEvent(w http.ResponseWriter, r *http.Request) {
	room, ok := s.visibleRoom(w, r)
	if !ok {
		return
	}
	typ, key := r.PathValue("eventType"), r.PathValue("stateKey")
	for _, ev := range s.stateEvents(room) {
		if ev.Type == typ && ev.StateKey == key {
			writeJSON(w, http.StatusOK, ev.Content)
			return
		}
	}
	writeError(w, http.StatusNotFound, "M_NOT_FOUND", "Event not found.")
}

// handleJoinedMembers serves GET /rooms/{roomId}/joined_members.
func (s *Server) handleJoinedMembers(w http.ResponseWriter, r *http.Request) {
	room, ok := s.visibleRoom(w, r)
	if !ok {
		return
	}
	joined := map[string]any{}
	for _, u := range room.joined() {
		joined[u] = map[string]any{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"joined": joined})
}

// handleOpenID serves POST /user/{userId}/openid/request_token, the first
// step of getting an identity-server token.
func (s *Server) handleOpenID(w http.ResponseWriter, r *http.Request) {
	u, ok := s.accounts.user(w, r)
	if !ok {
		return
	}
	if r.PathValue("userId") != u.UserID {
		writeError(w, http.StatusForbidden, "M_FORBIDDEN", "Cannot request tokens for other users.")
		return
	}
	tok, ok := s.accounts.mintOpenID(u.UserID, time.Now())
	if !ok {
		writeError(w, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too many OpenID tokens")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok, "token_type": "Bearer",
		"matrix_server_name": s.cfg.ServerName, "expires_in": int(openIDTokenTTL / time.Second),
	})
}

// stateEvent is a state event as the client-server API returns it.
type stateEvent struct {
	Type           string         `json:"type"`
	StateKey       string         `json:"state_key"`
	Content        map[string]any `json:"content"`
	Sender         string         `json:"sender"`
	RoomID         string         `json:"room_id,omitempty"` // empty only for a v12 create event
	EventID        string         `json:"event_id"`
	OriginServerTS int64          `json:"origin_server_ts"`
}

// memberEvent returns the sender and content of userID's m.room.member
// event: the one made at run time, or for a member given in the Room the
// member's own with content {"membership"}.
func (room roomView) memberEvent(userID string) (string, map[string]any) {
	if ev, ok := room.events[userID]; ok {
		return ev.sender, ev.content
	}
	return userID, map[string]any{"membership": room.Members[userID]}
}

// stateEvents renders the room as the state events that matter for
// invites: create, power levels, canonical alias and memberships. A room
// version 12 create event is sent by the first creator, names the others
// as additional_creators, has no room_id, and its event ID is the room
// ID's hash; its creators are left out of the power levels' users.
func (s *Server) stateEvents(room roomView) []stateEvent {
	creator := DefaultUserID
	if joined := room.joined(); len(joined) > 0 {
		creator = joined[0]
	}
	createContent := map[string]any{"creator": creator, "room_version": room.version()}
	if room.v12() {
		if len(room.Creators) > 0 {
			creator = room.Creators[0]
		}
		createContent = map[string]any{"room_version": room.version()}
		if len(room.Creators) > 1 {
			createContent["additional_creators"] = room.Creators[1:]
		}
	}
	ev := func(typ, key, sender string, content map[string]any) stateEvent {
		sum := sha256.Sum256([]byte(room.ID + "\x00" + typ + "\x00" + key))
		return stateEvent{Type: typ, StateKey: key, Content: content, Sender: sender, RoomID: room.ID,
			EventID: "$" + hex.EncodeToString(sum[:12]), OriginServerTS: 1700000000000}
	}
	create := ev("m.room.create", "", creator, createContent)
	if room.v12() {
		create.RoomID, create.EventID = "", "$"+room.ID[1:]
	}
	users := map[string]int{}
	for u, pl := range room.PowerLevels {
		if !room.isCreator(u) {
			users[u] = pl
		}
	}
	events := []stateEvent{
		create,
		ev("m.room.power_levels", "", creator, map[string]any{
			"users": users, "users_default": room.UsersDefault, "invite": room.InviteLevel,
			"events": map[string]int{}, "events_default": 0, "state_default": 50,
			"ban": 50, "kick": 50, "redact": 50, "notifications": map[string]int{"room": 50},
		}),
	}
	if len(room.Aliases) > 0 {
		content := map[string]any{"alias": room.Aliases[0]}
		if len(room.Aliases) > 1 {
			content["alt_aliases"] = room.Aliases[1:]
		}
		events = append(events, ev("m.room.canonical_alias", "", creator, content))
	}
	for _, u := range sortedKeys(room.Members) {
		sender, content := room.memberEvent(u)
		events = append(events, ev("m.room.member", u, sender, content))
	}
	return events
}
