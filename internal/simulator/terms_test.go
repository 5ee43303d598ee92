package simulator_test

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestTermsListing(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{RequireTerms: true})
	res := call(t, ts, "GET", isBase+"/terms", "", nil)
	p := simulator.DefaultPolicy()
	policies, _ := res.body["policies"].(map[string]any)
	doc, _ := policies[p.Name].(map[string]any)
	en, _ := doc["en"].(map[string]any)
	if res.status != 200 || len(policies) != 1 || doc["version"] != p.Version || en["url"] != p.URL || en["name"] != p.Title {
		t.Errorf("terms: %d %s", res.status, res.raw)
	}
	_, ts = simtest.NewServer(t, simulator.Config{})
	if res := call(t, ts, "GET", isBase+"/terms", "", nil); res.status != 200 || len(res.body["policies"].(map[string]any)) != 0 {
		t.Errorf("no terms: %d %s", res.status, res.raw)
	}
}

func TestTermsBlockEveryEndpointUntilAccepted(t *testing.T) {
	cfg := testConfig()
	cfg.RequireTerms = true
	sim, ts := simtest.NewServer(t, cfg)
	tok := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	hash := simulator.HashAddress("a@example.org", "email", simulator.DefaultLookupPepper)
	blocked := func(tok string) {
		t.Helper()
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/account", nil},
			{"GET", "/hash_details", nil},
			{"POST", "/lookup", map[string]any{"algorithm": "sha256", "pepper": simulator.DefaultLookupPepper, "addresses": []string{hash}}},
			{"POST", "/store-invite", map[string]any{"medium": "email", "address": "a@example.org", "room_id": simulator.DefaultRoomID, "sender": simulator.DefaultUserID}},
		} {
			wantStatus(t, call(t, ts, c.method, isBase+c.path, tok, c.body), 403, "M_TERMS_NOT_SIGNED")
		}
		body := inviteReq(ts, "blocked@example.org")
		body["id_access_token"] = tok
		wantSynapse500(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body))
	}
	blocked(tok)
	blocked(simulator.DefaultIDAccessToken) // a configured token is the first user's: no consent yet
	if st := sim.Stats(); st.StoreInvites != 0 || st.IdentityRefusals[simulator.RefusalTermsNotSigned] != 2 {
		t.Fatalf("stats %+v", st)
	}

	accept := map[string]any{"user_accepts": []string{simulator.DefaultPolicy().URL}}
	wantStatus(t, call(t, ts, "POST", isBase+"/terms", "", accept), 401, "M_UNAUTHORIZED")
	wantStatus(t, call(t, ts, "POST", isBase+"/terms", tok, map[string]any{"user_accepts": []string{"https://elsewhere/"}}), 400, "M_UNKNOWN")
	wantStatus(t, call(t, ts, "POST", isBase+"/terms", tok, map[string]any{}), 400, "M_MISSING_PARAMS")
	if sim.TermsSigned(simulator.DefaultUserID) {
		t.Fatal("refused acceptances signed the terms")
	}
	wantStatus(t, call(t, ts, "POST", isBase+"/terms", tok, accept), 200, "")

	// Consent is the user's: every token of the user works, a new
	// registration too; another user is still blocked.
	again := registerIDToken(t, ts, simulator.DefaultAccessToken, simulator.DefaultUserID)
	for _, tk := range []string{tok, again, simulator.DefaultIDAccessToken} {
		wantStatus(t, call(t, ts, "GET", isBase+"/account", tk, nil), 200, "")
		body := inviteReq(ts, "ok-"+tk+"@example.org")
		body["id_access_token"] = tk
		wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body), 200, "")
	}
	member := registerIDToken(t, ts, memberToken, memberID)
	wantStatus(t, call(t, ts, "GET", isBase+"/account", member, nil), 403, "M_TERMS_NOT_SIGNED")
	if st := sim.Stats(); st.TermsAccepted[simulator.DefaultUserID] != 1 || len(st.TermsAccepted) != 1 {
		t.Errorf("terms accepted %v", st.TermsAccepted)
	}

	// New terms: consent must be given again.
	v2 := simulator.Policy{Name: "privacy_policy", Version: "2.0", URL: "https://sim.local/terms/privacy-2.0.html"}
	if err := sim.SetTerms([]simulator.Policy{v2}); err != nil {
		t.Fatal(err)
	}
	blocked(tok)
	wantStatus(t, call(t, ts, "POST", isBase+"/terms", tok, map[string]any{"user_accepts": []string{v2.URL}}), 200, "")
	wantStatus(t, call(t, ts, "GET", isBase+"/account", tok, nil), 200, "")
	if err := sim.SetTerms([]simulator.Policy{v2, v2}); err == nil {
		t.Error("SetTerms took a policy twice")
	}
}

func TestPublishTermsEndpoint(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	wantStatus(t, call(t, ts, "GET", isBase+"/account", simulator.DefaultIDAccessToken, nil), 200, "")
	p := simulator.Policy{Name: "tos", Version: "1", URL: "https://sim.local/tos-1"}
	wantStatus(t, call(t, ts, "POST", "/_sim/terms", "", map[string]any{"policies": []simulator.Policy{p}}), 200, "")
	wantStatus(t, call(t, ts, "GET", isBase+"/account", simulator.DefaultIDAccessToken, nil), 403, "M_TERMS_NOT_SIGNED")
	sim.AcceptTerms(simulator.DefaultUserID)
	wantStatus(t, call(t, ts, "GET", isBase+"/account", simulator.DefaultIDAccessToken, nil), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/terms", "", map[string]any{"policies": []map[string]string{{"name": "x"}}}), 400, "M_INVALID_PARAM")
	if got := sim.Terms(); len(got) != 1 || got[0] != p {
		t.Errorf("terms %v", got)
	}
}
