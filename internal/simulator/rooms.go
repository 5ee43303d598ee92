package simulator

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"sync"
)

// Room is a room of the simulated homeserver: just the state that decides
// whether a 3PID invite is allowed.
type Room struct {
	// ID is the room ID: "!opaque:server" (room versions 1-11) or the
	// room version 12 form "!" + 43 URL-safe base64 characters (see
	// [NewV12RoomID]). The form decides the room version the state shows.
	ID string
	// Aliases resolve to the room through GET /directory/room/{roomAlias};
	// the first one is the room's canonical alias.
	Aliases []string
	// Members maps user IDs to their membership: "join", "invite",
	// "leave", "ban" or "knock". Only "join" may invite.
	Members map[string]string
	// PowerLevels maps user IDs to their power level; others have
	// UsersDefault.
	PowerLevels map[string]int
	// UsersDefault is the power level of users not in PowerLevels.
	UsersDefault int
	// InviteLevel is the power level needed to invite ("invite" in
	// m.room.power_levels). 0 is the spec's default; rooms Synapse creates
	// use DefaultInviteLevel.
	InviteLevel int
	// Creators are, in a room version 12 room, the sender of the create
	// event and its additional_creators: their power is above every
	// level and they are never listed in the power levels' users (a
	// PowerLevels entry for them is not shown). Default none. Ignored in
	// rooms of older versions, whose creator is the first joined member.
	Creators []string
}

// DefaultRoom returns the default room: DefaultRoomID with alias
// DefaultRoomAlias, where DefaultUserID is joined with power level 100
// and inviting needs DefaultInviteLevel.
func DefaultRoom() Room {
	return Room{
		ID:          DefaultRoomID,
		Aliases:     []string{DefaultRoomAlias},
		Members:     map[string]string{DefaultUserID: "join"},
		PowerLevels: map[string]int{DefaultUserID: 100},
		InviteLevel: DefaultInviteLevel,
	}
}

// validMembership reports whether m is a membership value of the spec.
func validMembership(m string) bool {
	switch m {
	case "join", "invite", "leave", "ban", "knock":
		return true
	}
	return false
}

// clone returns a deep copy, so the server never shares maps with callers.
func (r Room) clone() Room {
	r.Aliases = append([]string(nil), r.Aliases...)
	r.Creators = append([]string(nil), r.Creators...)
	r.Members = maps.Clone(r.Members)
	r.PowerLevels = maps.Clone(r.PowerLevels)
	return r
}

// validate checks r; seen collects IDs and aliases across rooms so that
// duplicates are reported.
func (r Room) validate(field string, seen map[string]bool) []error {
	var errs []error
	bad := func(sub, format string, args ...any) {
		errs = append(errs, fmt.Errorf("simulator: Config.%s%s: %s", field, sub, fmt.Sprintf(format, args...)))
	}
	if !validRoomID(r.ID) {
		bad(".ID", "%q is not a room ID (!opaque:server, or ! and 43 URL-safe base64 characters)", r.ID)
	} else if seen[r.ID] {
		bad(".ID", "%q used twice", r.ID)
	}
	seen[r.ID] = true
	for i, a := range r.Aliases {
		if !validID(a, '#') {
			bad(fmt.Sprintf(".Aliases[%d]", i), "%q is not a room alias (#name:server)", a)
		} else if seen[a] {
			bad(fmt.Sprintf(".Aliases[%d]", i), "%q used twice", a)
		}
		seen[a] = true
	}
	for _, u := range sortedKeys(r.Members) {
		if !validID(u, '@') {
			bad(".Members", "%q is not a user ID", u)
		}
		if m := r.Members[u]; !validMembership(m) {
			bad(".Members", "%q has membership %q, not one of join, invite, leave, ban, knock", u, m)
		}
	}
	for i, u := range r.Creators {
		if !validID(u, '@') {
			bad(fmt.Sprintf(".Creators[%d]", i), "%q is not a user ID", u)
		}
	}
	for _, u := range sortedKeys(r.PowerLevels) {
		if !validID(u, '@') {
			bad(".PowerLevels", "%q is not a user ID", u)
		}
	}
	return errs
}

// v12 reports whether the room has a room version 12 ID.
func (r Room) v12() bool { return isV12RoomID(r.ID) }

// version is the room version the state reports.
func (r Room) version() string {
	if r.v12() {
		return "12"
	}
	return "10"
}

// isCreator reports whether userID is a creator of a version 12 room,
// whose power is above any level.
func (r Room) isCreator(userID string) bool {
	return r.v12() && slices.Contains(r.Creators, userID)
}

// powerLevel is the power level of userID in the room; a version 12
// creator's is above every level.
func (r Room) powerLevel(userID string) int {
	if r.isCreator(userID) {
		return math.MaxInt
	}
	if pl, ok := r.PowerLevels[userID]; ok {
		return pl
	}
	return r.UsersDefault
}

// joined lists the joined members, sorted.
func (r Room) joined() []string {
	var out []string
	for _, u := range sortedKeys(r.Members) {
		if r.Members[u] == "join" {
			out = append(out, u)
		}
	}
	return out
}

// sortedKeys returns the keys of m in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// roomStore holds the rooms. AddRoom may replace a room while serving,
// and invites, joins and binds change memberships in place, under the
// write lock; readers get copies ([roomStore.get]) or look under the read
// lock ([roomStore.read]).
type roomStore struct {
	mu      sync.RWMutex
	rooms   map[string]*roomState // by room ID
	aliases map[string]string     // alias -> room ID
}

// roomState is a room and the membership events made while serving.
type roomState struct {
	room Room
	// events are the membership events set at run time, by user ID:
	// who sent them and their content. Members given in the Room have
	// none (their event is the member's own, content {"membership"}).
	events map[string]memberEvent
}

// memberEvent is the sender and content of an m.room.member event.
type memberEvent struct {
	sender  string
	content map[string]any
}

func newRoomStore() *roomStore {
	return &roomStore{rooms: map[string]*roomState{}, aliases: map[string]string{}}
}

// put adds r, or replaces the room with the same ID (so tests can change
// memberships while a server runs); memberships made at run time in the
// replaced room are forgotten.
func (rs *roomStore) put(r Room) error {
	if errs := r.validate("Room", map[string]bool{}); len(errs) > 0 {
		return errs[0]
	}
	r = r.clone()
	if r.Members == nil {
		r.Members = map[string]string{}
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, a := range r.Aliases {
		if id, ok := rs.aliases[a]; ok && id != r.ID {
			return fmt.Errorf("simulator: alias %s already points to %s", a, id)
		}
	}
	if old, ok := rs.rooms[r.ID]; ok {
		for _, a := range old.room.Aliases {
			delete(rs.aliases, a)
		}
	}
	rs.rooms[r.ID] = &roomState{room: r, events: map[string]memberEvent{}}
	for _, a := range r.Aliases {
		rs.aliases[a] = r.ID
	}
	return nil
}

// roomView is a copy of a room's state that the caller may keep.
type roomView struct {
	Room
	events map[string]memberEvent
}

// get returns a copy of the room with this ID.
func (rs *roomStore) get(id string) (roomView, bool) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	st, ok := rs.rooms[id]
	if !ok {
		return roomView{}, false
	}
	return roomView{Room: st.room.clone(), events: maps.Clone(st.events)}, true
}

// read calls fn with the room under the read lock, without copying it;
// fn must neither keep nor change it. It reports whether the room exists
// (fn is not called otherwise).
func (rs *roomStore) read(id string, fn func(Room)) bool {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	st, ok := rs.rooms[id]
	if ok {
		fn(st.room)
	}
	return ok
}

// resolve returns the room ID an alias points to.
func (rs *roomStore) resolve(alias string) (string, bool) {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	id, ok := rs.aliases[alias]
	return id, ok
}
