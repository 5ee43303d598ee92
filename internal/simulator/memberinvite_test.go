package simulator_test

import (
	"net/http/httptest"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// inviteUser invites userID by Matrix ID into roomID with token.
func inviteUser(t testing.TB, ts *httptest.Server, token, roomID, userID string) result {
	t.Helper()
	return call(t, ts, "POST", invitePath(roomID), token, map[string]string{"user_id": userID})
}

func TestInviteByMatrixID(t *testing.T) {
	sim, ts := simtest.NewServer(t, testConfig())
	wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, "@new:sim.local"), 200, "")
	// The r0 prefix and the PUT form serve it too.
	wantStatus(t, call(t, ts, "POST", "/_matrix/client/r0/rooms/"+encodedRoom(simulator.DefaultRoomID)+"/invite",
		simulator.DefaultAccessToken, map[string]string{"user_id": "@r0:sim.local"}), 200, "")
	wantStatus(t, call(t, ts, "PUT", txnPath(simulator.DefaultRoomID, "m1"), simulator.DefaultAccessToken,
		map[string]string{"user_id": "@put:sim.local"}), 200, "")
	for _, u := range []string{"@new:sim.local", "@r0:sim.local", "@put:sim.local"} {
		if m := membership(t, sim, u); m != "invite" {
			t.Errorf("%s: membership %q, want invite", u, m)
		}
	}
	st := sim.Stats()
	if st.MatrixIDInvites != 3 || st.StoreInvites != 0 || st.Lookups != 0 || st.Accepted != 0 || st.InviteRequests != 3 {
		t.Errorf("stats %+v, want 3 invites by Matrix ID, no identity server", st)
	}
}

func TestInviteByMatrixIDRules(t *testing.T) {
	cfg := testConfig()
	room := cfg.Rooms[0]
	room.Members["@joined:sim.local"] = "join"
	room.Members["@banned:sim.local"] = "ban"
	room.Members["@blocker:sim.local"] = "join" // blocking is checked before membership, as in Synapse
	cfg.Rooms[0] = room
	cfg.Bindings = []simulator.Binding{{Address: "blocker@example.org", UserID: "@blocker:sim.local", BlocksInvites: true}}
	admin := simulator.User{AccessToken: "admin-token", UserID: "@admin:sim.local", Admin: true}
	cfg.Users = append(cfg.Users, admin)
	room.Members[admin.UserID] = "join"
	room.PowerLevels[admin.UserID] = 100
	sim, ts := simtest.NewServer(t, cfg)
	tok, roomID := simulator.DefaultAccessToken, simulator.DefaultRoomID

	res := inviteUser(t, ts, tok, roomID, "@joined:sim.local")
	wantStatus(t, res, 403, "M_FORBIDDEN")
	if res.body["error"] != "@joined:sim.local is already in the room." {
		t.Errorf("error %q", res.body["error"])
	}
	wantStatus(t, inviteUser(t, ts, tok, roomID, "@banned:sim.local"), 403, "M_BAD_STATE")
	res = inviteUser(t, ts, tok, roomID, "@blocker:sim.local")
	wantStatus(t, res, 403, simulator.InviteBlockedStable)
	// Server admins pass invite filters (and then meet the membership rule).
	wantStatus(t, inviteUser(t, ts, "admin-token", roomID, "@blocker:sim.local"), 403, "M_FORBIDDEN")
	wantStatus(t, inviteUser(t, ts, outsiderToken, roomID, "@x:sim.local"), 403, "M_FORBIDDEN") // not in the room
	wantStatus(t, inviteUser(t, ts, memberToken, roomID, "@x:sim.local"), 403, "M_FORBIDDEN")   // power level
	wantStatus(t, inviteUser(t, ts, tok, "!nope:sim.local", "@x:sim.local"), 403, "M_FORBIDDEN")
	wantStatus(t, inviteUser(t, ts, tok, roomID, "nobody"), 400, "M_INVALID_PARAM")
	if err := sim.SetInviteBlockedCode(simulator.InviteBlockedUnstable); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, inviteUser(t, ts, tok, roomID, "@blocker:sim.local"), 403, simulator.InviteBlockedUnstable)
	st := sim.Stats()
	want := map[string]int64{simulator.InviteeAlreadyJoined: 2, simulator.InviteeBanned: 1, simulator.InviteeBlocked: 2}
	for k, v := range want {
		if st.InviteeRefusals[k] != v {
			t.Errorf("InviteeRefusals[%s] = %d, want %d (%v)", k, st.InviteeRefusals[k], v, st.InviteeRefusals)
		}
	}
	if st.MatrixIDInvites != 0 || membership(t, sim, "@x:sim.local") != "" {
		t.Errorf("stats %+v: a refused invite made a membership", st)
	}
	// A user without a binding blocks through the setter and the control.
	wantStatus(t, call(t, ts, "POST", "/_sim/block_invites", "", map[string]any{"user_id": "@shy:sim.local", "errcode": simulator.InviteBlockedStable}), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, roomID, "@shy:sim.local"), 403, simulator.InviteBlockedStable)
	wantStatus(t, call(t, ts, "POST", "/_sim/block_invites", "", map[string]any{"user_id": "@shy:sim.local", "blocks": false}), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, roomID, "@shy:sim.local"), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/block_invites", "", map[string]any{"errcode": "M_FORBIDDEN"}), 400, "M_INVALID_PARAM")
}

func TestInviteByMatrixIDNotChargedToThirdPartyLimit(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimit = simulator.RateLimit{PerSecond: 0.001, Burst: 1}
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, "a@example.org"), 200, "")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	// Inside the 3PID advice, invites by Matrix ID pass and are not early.
	for _, u := range []string{"@m1:sim.local", "@m2:sim.local"} {
		wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, u), 200, "")
	}
	st := sim.Stats()
	if st.EarlyRequests != 0 || st.MatrixIDInvites != 2 || st.RateLimited != 1 {
		t.Errorf("stats %+v, want invites by Matrix ID untouched by rc_third_party_invite", st)
	}
	// ... whereas another 3PID invite now is early.
	invite(t, ts, "c@example.org")
	if st := sim.Stats(); st.EarlyRequests != 1 || st.EarlyByScope[simulator.ScopeThirdPartyInvite] != 1 {
		t.Errorf("stats %+v, want one early 3PID invite", st)
	}
}

func TestInviteByMatrixIDOnServerWithout3PID(t *testing.T) {
	cfg := testConfig()
	cfg.NoThreePID = simulator.NoThreePIDConduit
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, "a@example.org"), 404, "M_NOT_FOUND")
	wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, "@c:sim.local"), 200, "")
	if st := sim.Stats(); st.ThreePIDDenied != 1 || st.MatrixIDInvites != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestThreePIDLookupDisabled(t *testing.T) {
	cfg := boundConfig()
	cfg.ThreePIDLookupDisabled = true
	cfg.RateLimit = simulator.RateLimit{PerSecond: 0.001, Burst: 2}
	cfg.Rules = []simulator.Rule{{Pattern: "*@ruled.example", Status: 403, ErrCode: "M_FORBIDDEN"}}
	sim, ts := simtest.NewServer(t, cfg)
	res := invite(t, ts, boundAddr)
	wantStatus(t, res, 403, "M_UNKNOWN")
	if res.body["error"] != "Looking up third-party identifiers is denied from this server" {
		t.Errorf("error %q", res.body["error"])
	}
	wantStatus(t, invite(t, ts, "x@ruled.example"), 403, "M_FORBIDDEN")    // module rules come first
	wantStatus(t, invite(t, ts, "y@example.org"), 429, "M_LIMIT_EXCEEDED") // and the rate limit before them
	wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, "@m:sim.local"), 200, "")
	st := sim.Stats()
	if st.ThreePIDLookupDenied != 1 || st.Lookups != 0 || st.StoreInvites != 0 || st.MatrixIDInvites != 1 {
		t.Errorf("stats %+v, want one refusal before any lookup", st)
	}
	wantStatus(t, call(t, ts, "POST", "/_sim/3pid_lookup", "", map[string]bool{"disabled": false}), 200, "")
	if err := sim.SetRateLimit(simulator.RateLimit{}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "z@example.org"), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/3pid_lookup", "", map[string]any{}), 400, "M_MISSING_PARAM")
}
