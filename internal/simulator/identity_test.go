package simulator_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

const isBase = "/_matrix/identity/v2"

func TestHashAddressSpecExample(t *testing.T) {
	// The example of the identity service spec, section "Client behaviour".
	if got := simulator.HashAddress("alice@example.com", "email", "matrixrocks"); got != "4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc" {
		t.Errorf("HashAddress = %s", got)
	}
}

func TestHashDetailsAuth(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	res := call(t, ts, "GET", isBase+"/hash_details", simulator.DefaultIDAccessToken, nil)
	if res.status != 200 || res.body["lookup_pepper"] != simulator.DefaultLookupPepper {
		t.Errorf("hash_details: %d %s", res.status, res.raw)
	}
	if algs, _ := res.body["algorithms"].([]any); len(algs) != 1 || algs[0] != "sha256" {
		t.Errorf("algorithms %v", res.body["algorithms"])
	}
	// Synapse sends the token as a query parameter here.
	wantStatus(t, call(t, ts, "GET", isBase+"/hash_details?access_token="+simulator.DefaultIDAccessToken, "", nil), 200, "")
	wantStatus(t, call(t, ts, "GET", isBase+"/hash_details", "", nil), 401, "M_UNAUTHORIZED")
	wantStatus(t, call(t, ts, "GET", isBase+"/hash_details", simulator.DefaultAccessToken, nil), 401, "M_UNAUTHORIZED")
}

func TestLookup(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	hash := simulator.HashAddress("a@example.org", "email", simulator.DefaultLookupPepper)
	req := func(alg, pepper string) map[string]any {
		return map[string]any{"algorithm": alg, "pepper": pepper, "addresses": []string{hash}}
	}
	res := call(t, ts, "POST", isBase+"/lookup", simulator.DefaultIDAccessToken, req("sha256", simulator.DefaultLookupPepper))
	if m, ok := res.body["mappings"].(map[string]any); res.status != 200 || !ok || len(m) != 0 {
		t.Errorf("lookup: %d %s", res.status, res.raw)
	}
	res = call(t, ts, "POST", isBase+"/lookup", simulator.DefaultIDAccessToken, req("sha256", "stale"))
	wantStatus(t, res, 400, "M_INVALID_PEPPER")
	if res.body["lookup_pepper"] != simulator.DefaultLookupPepper {
		t.Errorf("M_INVALID_PEPPER without the current pepper: %s", res.raw)
	}
	wantStatus(t, call(t, ts, "POST", isBase+"/lookup", simulator.DefaultIDAccessToken, req("md5", simulator.DefaultLookupPepper)), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "POST", isBase+"/lookup", simulator.DefaultIDAccessToken, map[string]any{}), 400, "M_MISSING_PARAMS")
	wantStatus(t, call(t, ts, "POST", isBase+"/lookup", "bad", req("sha256", simulator.DefaultLookupPepper)), 401, "M_UNAUTHORIZED")
	if st := sim.Stats(); st.Lookups != 1 {
		t.Errorf("lookups %d, want 1", st.Lookups)
	}
}

func TestStoreInvite(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	body := map[string]any{"medium": "email", "address": "alice@example.org", "room_id": simulator.DefaultRoomID, "sender": simulator.DefaultUserID}
	res := call(t, ts, "POST", isBase+"/store-invite", simulator.DefaultIDAccessToken, body)
	keys, _ := res.body["public_keys"].([]any)
	if res.status != 200 || res.body["token"] == "" || len(keys) != 1 || res.body["display_name"] != "ali...@exa..." {
		t.Fatalf("store-invite: %d %s", res.status, res.raw)
	}
	key, _ := keys[0].(map[string]any)
	if key["public_key"] == nil || key["key_validity_url"] != ts.URL+isBase+"/pubkey/isvalid" {
		t.Errorf("public key %v", key)
	}
	valid := call(t, ts, "GET", isBase+"/pubkey/isvalid?public_key="+url.QueryEscape(key["public_key"].(string)), "", nil)
	if valid.body["valid"] != true {
		t.Errorf("isvalid: %s", valid.raw)
	}
	if st := sim.Stats(); st.StoreInvites != 1 || st.Emails["alice@example.org"] != 1 {
		t.Errorf("stats %+v, want one email", st)
	}
	delete(body, "sender")
	wantStatus(t, call(t, ts, "POST", isBase+"/store-invite", simulator.DefaultIDAccessToken, body), 400, "M_MISSING_PARAMS")
	wantStatus(t, call(t, ts, "POST", isBase+"/store-invite", "", body), 401, "M_UNAUTHORIZED")
}

// IdentityLatency delays the answer to a 3PID invite, and the invite is
// stored at its end: a client that gave up meanwhile still invited.
func TestIdentityLatencyDelaysTheAnswerAndStillStores(t *testing.T) {
	const d = 150 * time.Millisecond
	if err := (simulator.Config{IdentityLatency: -d}).Validate(); err == nil || !strings.Contains(err.Error(), "IdentityLatency") {
		t.Fatalf("negative IdentityLatency: %v, want an error naming the field", err)
	}
	sim, ts := simtest.NewServer(t, simulator.Config{IdentityLatency: d})
	if _, err := send(ts, d/3, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken,
		inviteReq(ts, "gone@example.org")); err == nil {
		t.Fatal("the client gave up before the identity server answered, yet got an answer")
	}
	start := time.Now()
	wantStatus(t, invite(t, ts, "slow@example.org"), 200, "")
	if took := time.Since(start); took < d {
		t.Errorf("answered after %v, want at least %v", took, d)
	}
	for range 100 { // the abandoned one is stored at the end of its latency
		if sim.Stats().Accepted == 2 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("accepted %d invites, want 2 (the abandoned request too)", sim.Stats().Accepted)
}
