package simulator_test

import (
	"net/http/httptest"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// registerIDToken gets an identity token the way Element does: an OpenID
// token from the homeserver, exchanged at account/register.
func registerIDToken(t *testing.T, ts *httptest.Server, accessToken, userID string) string {
	t.Helper()
	res := call(t, ts, "POST", "/_matrix/client/v3/user/"+encodedRoom(userID)+"/openid/request_token", accessToken, map[string]any{})
	if res.status != 200 || res.body["token_type"] != "Bearer" || res.body["matrix_server_name"] != simulator.DefaultServerName ||
		res.body["expires_in"] != float64(3600) || res.body["access_token"] == "" {
		t.Fatalf("request_token: %d %s", res.status, res.raw)
	}
	res = call(t, ts, "POST", isBase+"/account/register", "", res.body)
	tok, _ := res.body["token"].(string)
	if res.status != 200 || tok == "" || res.body["access_token"] != tok {
		t.Fatalf("register: %d %s", res.status, res.raw)
	}
	return tok
}

func TestAccountRegisterBindsTheUser(t *testing.T) {
	sim, ts := simtest.NewServer(t, testConfig())
	a := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	b := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	m := registerIDToken(t, ts, memberToken, memberID)
	if a == b {
		t.Error("two registrations gave the same token")
	}
	for tok, user := range map[string]string{a: simulator.DefaultUserID, b: simulator.DefaultUserID, m: memberID,
		simulator.DefaultIDAccessToken: simulator.DefaultUserID} {
		res := call(t, ts, "GET", isBase+"/account", tok, nil)
		if res.status != 200 || res.body["user_id"] != user {
			t.Errorf("account of %s: %d %s, want %s", tok, res.status, res.raw, user)
		}
	}
	wantStatus(t, call(t, ts, "GET", isBase+"/account", "forged", nil), 401, "M_UNAUTHORIZED")
	wantStatus(t, call(t, ts, "GET", isBase+"/account", "", nil), 401, "M_UNAUTHORIZED")
	if st := sim.Stats(); st.Registrations[simulator.DefaultUserID] != 2 || st.Registrations[memberID] != 1 {
		t.Errorf("registrations %v", st.Registrations)
	}

	// The inviter's own token works; another user's is refused by the
	// identity server, which Synapse turns into a bare 500.
	body := inviteReq(ts, "own@example.org")
	body["id_access_token"] = a
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body), 200, "")
	body = inviteReq(ts, "other@example.org")
	body["id_access_token"] = m
	res := call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body)
	wantSynapse500(t, res)
	storeBody := map[string]any{"medium": "email", "address": "x@example.org", "room_id": simulator.DefaultRoomID, "sender": simulator.DefaultUserID}
	wantStatus(t, call(t, ts, "POST", isBase+"/store-invite", m, storeBody), 403, "M_UNAUTHORIZED")
	if st := sim.Stats(); st.IdentityRefusals[simulator.RefusalWrongSender] != 1 || st.Emails["other@example.org"] != 0 || st.Emails["x@example.org"] != 0 {
		t.Errorf("stats %+v", st)
	}

	// An OpenID token is only for its own user, and only this server's.
	wantStatus(t, call(t, ts, "POST", "/_matrix/client/v3/user/"+memberID+"/openid/request_token", simulator.DefaultAccessToken, map[string]any{}), 403, "M_FORBIDDEN")
	bad := map[string]any{"access_token": "forged", "matrix_server_name": simulator.DefaultServerName}
	wantStatus(t, call(t, ts, "POST", isBase+"/account/register", "", bad), 401, "M_UNAUTHORIZED")
}

func TestUnknownIDTokenIsSynapse500(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	body := inviteReq(ts, "u@example.org")
	body["id_access_token"] = "never-registered"
	wantSynapse500(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body))
	if st := sim.Stats(); st.IdentityRefusals[simulator.RefusalUnknownToken] != 1 || st.StoreInvites != 0 || st.Accepted != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestIdentityLogout(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	tok := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	wantStatus(t, call(t, ts, "POST", isBase+"/account/logout", tok, map[string]any{}), 200, "")
	wantStatus(t, call(t, ts, "GET", isBase+"/account", tok, nil), 401, "M_UNAUTHORIZED")
	wantStatus(t, call(t, ts, "POST", isBase+"/account/logout", tok, map[string]any{}), 401, "M_UNAUTHORIZED")
}

// wantSynapse500 fails unless res is Synapse's answer to any identity
// server refusal.
func wantSynapse500(t *testing.T, res result) {
	t.Helper()
	wantStatus(t, res, 500, "M_UNKNOWN")
	if res.body["error"] != "Internal server error" {
		t.Errorf("500 body %s", res.raw)
	}
}

func TestForgetIDTokens(t *testing.T) {
	sim, ts := simtest.NewServer(t, testConfig())
	a := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	b := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	m := registerIDToken(t, ts, memberToken, memberID)
	if n := sim.ForgetIDTokens(simulator.DefaultUserID); n != 2 {
		t.Errorf("forgot %d tokens, want 2", n)
	}
	for _, tok := range []string{a, b} {
		wantStatus(t, call(t, ts, "GET", isBase+"/account", tok, nil), 401, "M_UNAUTHORIZED")
	}
	wantStatus(t, call(t, ts, "GET", isBase+"/account", m, nil), 200, "")
	wantStatus(t, call(t, ts, "GET", isBase+"/account", simulator.DefaultIDAccessToken, nil), 200, "")
	res := call(t, ts, "POST", "/_sim/id_tokens/forget", "", map[string]string{"user_id": memberID})
	if res.status != 200 || res.body["forgotten"] != float64(1) {
		t.Errorf("/_sim/id_tokens/forget: %d %s", res.status, res.raw)
	}
	wantStatus(t, call(t, ts, "GET", isBase+"/account", m, nil), 401, "M_UNAUTHORIZED")
}
