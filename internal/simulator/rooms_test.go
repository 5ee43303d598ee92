package simulator_test

import (
	"encoding/json"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

const roomBase = "/_matrix/client/v3/rooms/"

func TestWhoami(t *testing.T) {
	_, ts := simtest.NewServer(t, testConfig())
	res := call(t, ts, "GET", "/_matrix/client/v3/account/whoami", simulator.DefaultAccessToken, nil)
	if res.status != 200 || res.body["user_id"] != simulator.DefaultUserID || res.body["device_id"] != simulator.DefaultDeviceID {
		t.Errorf("whoami: %d %s", res.status, res.raw)
	}
	wantStatus(t, call(t, ts, "GET", "/_matrix/client/v3/account/whoami", "bad", nil), 401, "M_UNKNOWN_TOKEN")
}

func TestDirectory(t *testing.T) {
	_, ts := simtest.NewServer(t, testConfig())
	res := call(t, ts, "GET", "/_matrix/client/v3/directory/room/"+encodedRoom(simulator.DefaultRoomAlias), "", nil)
	if res.status != 200 || res.body["room_id"] != simulator.DefaultRoomID {
		t.Errorf("alias: %d %s", res.status, res.raw)
	}
	if servers, _ := res.body["servers"].([]any); len(servers) != 1 || servers[0] != simulator.DefaultServerName {
		t.Errorf("servers %v", res.body["servers"])
	}
	wantStatus(t, call(t, ts, "GET", "/_matrix/client/v3/directory/room/"+encodedRoom("#nope:sim.local"), "", nil), 404, "M_NOT_FOUND")
	wantStatus(t, call(t, ts, "GET", "/_matrix/client/v3/directory/room/nope", "", nil), 400, "M_INVALID_PARAM")
}

func TestMembershipState(t *testing.T) {
	_, ts := simtest.NewServer(t, testConfig())
	member := roomBase + encodedRoom(simulator.DefaultRoomID) + "/state/m.room.member/"
	res := call(t, ts, "GET", member+encodedRoom(simulator.DefaultUserID), simulator.DefaultAccessToken, nil)
	if res.status != 200 || res.body["membership"] != "join" {
		t.Errorf("own membership: %d %s", res.status, res.raw)
	}
	wantStatus(t, call(t, ts, "GET", member+outsiderID, simulator.DefaultAccessToken, nil), 404, "M_NOT_FOUND")
	// Synapse answers 403 both for a room the requester is not in and
	// for a room that does not exist.
	wantStatus(t, call(t, ts, "GET", member+outsiderID, outsiderToken, nil), 403, "M_FORBIDDEN")
	wantStatus(t, call(t, ts, "GET", roomBase+"%21nope%3Asim.local/state/m.room.member/"+simulator.DefaultUserID, simulator.DefaultAccessToken, nil), 403, "M_FORBIDDEN")
}

func TestPowerLevels(t *testing.T) {
	_, ts := simtest.NewServer(t, testConfig())
	for _, suffix := range []string{"", "/"} { // empty state key, with or without the slash
		res := call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state/m.room.power_levels"+suffix, memberToken, nil)
		users, _ := res.body["users"].(map[string]any)
		if res.status != 200 || res.body["invite"] != float64(simulator.DefaultInviteLevel) ||
			users[simulator.DefaultUserID] != float64(100) || res.body["users_default"] != float64(0) {
			t.Errorf("power levels%q: %d %s", suffix, res.status, res.raw)
		}
	}
	wantStatus(t, call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state/m.room.topic", memberToken, nil), 404, "M_NOT_FOUND")
}

func TestFullStateAndJoinedMembers(t *testing.T) {
	sim, ts := simtest.NewServer(t, testConfig())
	res := call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state", simulator.DefaultAccessToken, nil)
	var events []struct {
		Type     string         `json:"type"`
		StateKey string         `json:"state_key"`
		Content  map[string]any `json:"content"`
	}
	if err := json.Unmarshal(res.raw, &events); err != nil || res.status != 200 {
		t.Fatalf("state: %d %s (%v)", res.status, res.raw, err)
	}
	found := map[string]bool{}
	for _, ev := range events {
		found[ev.Type+"|"+ev.StateKey] = true
	}
	for _, k := range []string{"m.room.create|", "m.room.power_levels|", "m.room.canonical_alias|", "m.room.member|" + memberID} {
		if !found[k] {
			t.Errorf("state lacks %s", k)
		}
	}

	res = call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/joined_members", simulator.DefaultAccessToken, nil)
	joined, _ := res.body["joined"].(map[string]any)
	if len(joined) != 2 || joined[memberID] == nil || joined[simulator.DefaultUserID] == nil {
		t.Errorf("joined_members: %s", res.raw)
	}
	wantStatus(t, call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/joined_members", outsiderToken, nil), 403, "M_FORBIDDEN")

	// AddRoom replaces a room: the outsider joins with enough power.
	room := simulator.DefaultRoom()
	room.Members[outsiderID] = "join"
	room.PowerLevels[outsiderID] = 50
	if err := sim.AddRoom(room); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), outsiderToken, inviteReq(ts, "z@example.org")), 200, "")
	if err := sim.AddRoom(simulator.Room{ID: "!other:sim.local", Aliases: []string{simulator.DefaultRoomAlias}}); err == nil {
		t.Error("AddRoom accepted an alias that points to another room")
	}
}

func TestOpenIDToIdentityToken(t *testing.T) {
	_, ts := simtest.NewServer(t, testConfig())
	res := call(t, ts, "POST", "/_matrix/client/v3/user/"+encodedRoom(simulator.DefaultUserID)+"/openid/request_token", simulator.DefaultAccessToken, map[string]any{})
	if res.status != 200 || res.body["token_type"] != "Bearer" {
		t.Fatalf("request_token: %d %s", res.status, res.raw)
	}
	wantStatus(t, call(t, ts, "POST", "/_matrix/client/v3/user/"+memberID+"/openid/request_token", simulator.DefaultAccessToken, map[string]any{}), 403, "M_FORBIDDEN")

	res = call(t, ts, "POST", "/_matrix/identity/v2/account/register", "", res.body)
	tok, _ := res.body["token"].(string)
	if res.status != 200 || tok == "" {
		t.Fatalf("register: %d %s", res.status, res.raw)
	}
	wantStatus(t, call(t, ts, "GET", "/_matrix/identity/v2/hash_details", tok, nil), 200, "")
	body := inviteReq(ts, "via-openid@example.org")
	body["id_access_token"] = tok
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body), 200, "")
	bad := map[string]any{"access_token": "forged", "matrix_server_name": simulator.DefaultServerName}
	wantStatus(t, call(t, ts, "POST", "/_matrix/identity/v2/account/register", "", bad), 401, "M_UNAUTHORIZED")
}
