package dendritetest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// CreateRoom creates a private room (preset private_chat) owned by the
// token's user and returns its room ID.
func (h *Homeserver) CreateRoom(t testing.TB, token string) (roomID string) {
	t.Helper()
	return h.CreateRoomWith(t, token, map[string]any{"preset": "private_chat"})
}

// CreateRoomWith creates a room with the given createRoom request body.
func (h *Homeserver) CreateRoomWith(t testing.TB, token string, body map[string]any) (roomID string) {
	t.Helper()
	r := h.Do(t, http.MethodPost, "/_matrix/client/v3/createRoom", token, body)
	mustOK(t, "createRoom", r)
	var res struct {
		RoomID string `json:"room_id"`
	}
	if err := r.Decode(&res); err != nil || res.RoomID == "" {
		t.Fatalf("dendritetest: createRoom: no room_id in %s", r)
	}
	return res.RoomID
}

// Event is a room event as the client-server API returns it.
type Event struct {
	Type     string          `json:"type"`
	StateKey *string         `json:"state_key,omitempty"`
	Sender   string          `json:"sender"`
	EventID  string          `json:"event_id"`
	Content  json.RawMessage `json:"content"`
}

// RoomState returns the room's current state events, as seen by the token's
// user (GET /rooms/{roomId}/state).
func (h *Homeserver) RoomState(t testing.TB, token, roomID string) []Event {
	t.Helper()
	r := h.Do(t, http.MethodGet, roomPath(roomID, "/state"), token, nil)
	mustOK(t, "room state "+roomID, r)
	var evs []Event
	if err := r.Decode(&evs); err != nil {
		t.Fatalf("dendritetest: room state %s: %v in %s", roomID, err, r)
	}
	return evs
}

// ThirdPartyInvite is the content of an m.room.third_party_invite state
// event, with its state key (the identity server's invite token).
type ThirdPartyInvite struct {
	StateKey       string `json:"-"`
	Sender         string `json:"-"`
	EventID        string `json:"-"`
	DisplayName    string `json:"display_name"`
	KeyValidityURL string `json:"key_validity_url"`
	PublicKey      string `json:"public_key"`
	PublicKeys     []struct {
		PublicKey      string `json:"public_key"`
		KeyValidityURL string `json:"key_validity_url"`
	} `json:"public_keys"`
}

// ThirdPartyInvites returns the room's pending m.room.third_party_invite
// state events (revoked ones, with empty content, are left out). The harness
// identity server sets display_name to the invited address, so
// [CountByDisplayName] counts invites per address.
func (h *Homeserver) ThirdPartyInvites(t testing.TB, token, roomID string) []ThirdPartyInvite {
	t.Helper()
	var out []ThirdPartyInvite
	for _, ev := range h.RoomState(t, token, roomID) {
		if ev.Type != "m.room.third_party_invite" || ev.StateKey == nil {
			continue
		}
		var inv ThirdPartyInvite
		if err := json.Unmarshal(ev.Content, &inv); err != nil {
			t.Fatalf("dendritetest: m.room.third_party_invite %s: %v", ev.EventID, err)
		}
		if inv.DisplayName == "" && inv.PublicKey == "" && len(inv.PublicKeys) == 0 {
			continue // revoked
		}
		inv.StateKey, inv.Sender, inv.EventID = *ev.StateKey, ev.Sender, ev.EventID
		out = append(out, inv)
	}
	return out
}

// CountByDisplayName returns how many invites have the given display_name.
func CountByDisplayName(invites []ThirdPartyInvite, displayName string) int {
	n := 0
	for _, inv := range invites {
		if inv.DisplayName == displayName {
			n++
		}
	}
	return n
}
