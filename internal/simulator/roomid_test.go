package simulator_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

var v12RoomID = regexp.MustCompile(`^![A-Za-z0-9_-]{43}$`)

func TestNewV12RoomID(t *testing.T) {
	a, b := simulator.NewV12RoomID("a"), simulator.NewV12RoomID("b")
	if !v12RoomID.MatchString(a) || !v12RoomID.MatchString(b) || a == b || strings.Contains(a, ":") {
		t.Fatalf("NewV12RoomID: %q %q", a, b)
	}
	if a != simulator.NewV12RoomID("a") {
		t.Error("NewV12RoomID is not stable per seed")
	}
	if _, err := simulator.New(simulator.Config{Rooms: []simulator.Room{{ID: a}}}); err != nil {
		t.Errorf("a v12 room is refused: %v", err)
	}
	for _, bad := range []string{"!" + strings.Repeat("a", 42), "!" + strings.Repeat("a", 43) + "=", "!" + strings.Repeat("a", 42) + "+", "!" + strings.Repeat("a", 300) + ":x"} {
		if _, err := simulator.New(simulator.Config{Rooms: []simulator.Room{{ID: bad}}}); err == nil {
			t.Errorf("room ID %q accepted", bad)
		}
	}
}

func TestV12RoomInviteKeepsTheWirePath(t *testing.T) {
	room := simulator.DefaultV12Room()
	sim, ts := simtest.NewServer(t, simulator.Config{Rooms: []simulator.Room{simulator.DefaultRoom(), room}})
	// The spec's way: the "!" is percent-encoded.
	wantStatus(t, call(t, ts, "POST", invitePath(room.ID), simulator.DefaultAccessToken, inviteReq(ts, "v12@example.org")), 200, "")
	wantStatus(t, call(t, ts, "PUT", txnPath(room.ID, "t1"), simulator.DefaultAccessToken, inviteReq(ts, "v12-put@example.org")), 200, "")
	// A client that does not encode it reaches the same room; the path
	// shows the difference.
	raw := "/_matrix/client/v3/rooms/" + room.ID + "/invite"
	wantStatus(t, call(t, ts, "POST", raw, simulator.DefaultAccessToken, inviteReq(ts, "v12-raw@example.org")), 200, "")

	encoded := "/_matrix/client/v3/rooms/%21" + room.ID[1:] + "/invite"
	st := sim.Stats()
	if st.InvitePaths[encoded] != 1 || st.InvitePaths[encoded+"/{txnId}"] != 1 || st.InvitePaths[raw] != 1 || len(st.InvitePaths) != 3 {
		t.Errorf("InvitePaths %v", st.InvitePaths)
	}
	acc := sim.Accepted()
	if len(acc) != 3 || acc[0].Path != encoded || acc[1].Path != encoded+"/t1" || acc[2].Path != raw || acc[0].RoomID != room.ID {
		t.Errorf("accepted %+v", acc)
	}
	// The room is opaque: nothing about it names a server but the config.
	res := call(t, ts, "GET", "/_matrix/client/v3/directory/room/"+encodedRoom(simulator.DefaultV12RoomAlias), "", nil)
	if res.status != 200 || res.body["room_id"] != room.ID {
		t.Errorf("alias of the v12 room: %d %s", res.status, res.raw)
	}
}

func TestV12RoomState(t *testing.T) {
	room := simulator.DefaultV12Room()
	room.Members["@second:sim.local"] = "join"
	room.Creators = append(room.Creators, "@second:sim.local")
	room.PowerLevels = map[string]int{simulator.DefaultUserID: 100, memberID: 50} // a creator's entry is not shown
	room.Members[memberID] = "join"
	cfg := testConfig()
	cfg.Rooms = []simulator.Room{room}
	_, ts := simtest.NewServer(t, cfg)

	res := call(t, ts, "GET", roomBase+encodedRoom(room.ID)+"/state", simulator.DefaultAccessToken, nil)
	var events []map[string]any
	if err := json.Unmarshal(res.raw, &events); err != nil || res.status != 200 {
		t.Fatalf("state: %d %s", res.status, res.raw)
	}
	var create, pl map[string]any
	for _, ev := range events {
		switch ev["type"] {
		case "m.room.create":
			create = ev
		case "m.room.power_levels":
			pl = ev
		}
	}
	content, _ := create["content"].(map[string]any)
	if _, hasRoomID := create["room_id"]; hasRoomID || create["event_id"] != "$"+room.ID[1:] ||
		create["sender"] != simulator.DefaultUserID || content["room_version"] != "12" || content["creator"] != nil {
		t.Errorf("create event %v", create)
	}
	if extra, _ := content["additional_creators"].([]any); len(extra) != 1 || extra[0] != "@second:sim.local" {
		t.Errorf("additional_creators %v", content["additional_creators"])
	}
	users, _ := pl["content"].(map[string]any)["users"].(map[string]any)
	if len(users) != 1 || users[memberID] != float64(50) {
		t.Errorf("power levels users %v, want only the member", users)
	}
	// The creator, listed nowhere, may invite; the member at 50 too.
	wantStatus(t, call(t, ts, "POST", invitePath(room.ID), simulator.DefaultAccessToken, inviteReq(ts, "c@example.org")), 200, "")
	wantStatus(t, call(t, ts, "POST", invitePath(room.ID), memberToken, inviteReq(ts, "m@example.org")), 200, "")

	// A legacy room still says version 10, with a creator field.
	_, ts2 := simtest.NewServer(t, simulator.Config{})
	res = call(t, ts2, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state/m.room.create", simulator.DefaultAccessToken, nil)
	if res.body["room_version"] != "10" || res.body["creator"] != simulator.DefaultUserID {
		t.Errorf("legacy create: %s", res.raw)
	}
}
