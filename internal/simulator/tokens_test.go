package simulator_test

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

const whoamiPath = "/_matrix/client/v3/account/whoami"

// wantDeadToken fails unless res is the 401 of a dead token.
func wantDeadToken(t *testing.T, res result) {
	t.Helper()
	wantStatus(t, res, 401, "M_UNKNOWN_TOKEN")
	if soft, ok := res.body["soft_logout"].(bool); !ok || soft || res.body["error"] == "" {
		t.Errorf("dead token answer %s", res.raw)
	}
}

func TestRevokedTokenDiesEverywhere(t *testing.T) {
	cfg := testConfig()
	cfg.Users[0].Admin = true
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, "before@example.org"), 200, "")
	if !sim.RevokeToken(simulator.DefaultAccessToken) {
		t.Fatal("RevokeToken of a live token said false")
	}
	if sim.RevokeToken(simulator.DefaultAccessToken) || sim.RevokeToken("never") {
		t.Error("RevokeToken of a dead or unknown token said true")
	}
	tok := simulator.DefaultAccessToken
	wantDeadToken(t, call(t, ts, "GET", whoamiPath, tok, nil))
	wantDeadToken(t, invite(t, ts, "after@example.org"))
	wantDeadToken(t, call(t, ts, "PUT", txnPath(simulator.DefaultRoomID, "t"), tok, inviteReq(ts, "put@example.org")))
	wantDeadToken(t, call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state", tok, nil))
	wantDeadToken(t, call(t, ts, "POST", "/_matrix/client/v3/user/"+encodedRoom(simulator.DefaultUserID)+"/openid/request_token", tok, map[string]any{}))
	wantDeadToken(t, call(t, ts, "GET", "/_synapse/admin/v1/users/"+simulator.DefaultUserID+"/override_ratelimit", tok, nil))
	// An unknown token is refused alike but not counted as a dead one.
	wantStatus(t, call(t, ts, "GET", whoamiPath, "never", nil), 401, "M_UNKNOWN_TOKEN")
	st := sim.Stats()
	if st.RevokedTokenRequests[tok] != 6 || len(st.RevokedTokenRequests) != 1 || st.Accepted != 1 || st.StoreInvites != 1 {
		t.Errorf("stats %+v, want 6 requests with the dead token and nothing done", st)
	}

	// A new token for the same user works at once; the old stays dead.
	if err := sim.AddToken("renewed", simulator.DefaultUserID); err != nil {
		t.Fatal(err)
	}
	res := call(t, ts, "GET", whoamiPath, "renewed", nil)
	if res.status != 200 || res.body["user_id"] != simulator.DefaultUserID || res.body["device_id"] != simulator.DefaultDeviceID {
		t.Errorf("whoami with the new token: %d %s", res.status, res.raw)
	}
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), "renewed", inviteReq(ts, "after@example.org")), 200, "")
	wantStatus(t, call(t, ts, "GET", "/_synapse/admin/v1/users/"+simulator.DefaultUserID+"/override_ratelimit", "renewed", nil), 200, "")
	wantDeadToken(t, call(t, ts, "GET", whoamiPath, tok, nil))
	if n := sim.Stats().RevokedTokenRequests[tok]; n != 7 {
		t.Errorf("dead token requests %d, want 7", n)
	}
	for _, c := range []struct{ tok, user string }{{"", simulator.DefaultUserID}, {"x", "@nobody:sim.local"}, {memberToken, simulator.DefaultUserID}} {
		if err := sim.AddToken(c.tok, c.user); err == nil {
			t.Errorf("AddToken(%q, %q) accepted", c.tok, c.user)
		}
	}
	// Reset clears the count, not the death.
	sim.Reset()
	wantDeadToken(t, call(t, ts, "GET", whoamiPath, tok, nil))
	if n := sim.Stats().RevokedTokenRequests[tok]; n != 1 {
		t.Errorf("after reset: %d", n)
	}
}

func TestTokenControlEndpoints(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	res := call(t, ts, "POST", "/_sim/tokens/revoke", "", map[string]string{"access_token": simulator.DefaultAccessToken})
	if res.status != 200 || res.body["revoked"] != true {
		t.Fatalf("revoke: %d %s", res.status, res.raw)
	}
	wantDeadToken(t, call(t, ts, "GET", whoamiPath, simulator.DefaultAccessToken, nil))
	if res := call(t, ts, "POST", "/_sim/tokens/revoke", "", map[string]string{"access_token": "unknown"}); res.body["revoked"] != false {
		t.Errorf("revoke unknown: %s", res.raw)
	}
	wantStatus(t, call(t, ts, "POST", "/_sim/tokens/revoke", "", map[string]string{}), 400, "M_MISSING_PARAM")
	wantStatus(t, call(t, ts, "POST", "/_sim/tokens/add", "", map[string]string{"access_token": "new", "user_id": simulator.DefaultUserID}), 200, "")
	wantStatus(t, call(t, ts, "GET", whoamiPath, "new", nil), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/tokens/add", "", map[string]string{"access_token": "x", "user_id": "@nobody:sim.local"}), 400, "M_INVALID_PARAM")
	if n := sim.Stats().RevokedTokenRequests[simulator.DefaultAccessToken]; n != 1 {
		t.Errorf("dead token requests %d", n)
	}
}
