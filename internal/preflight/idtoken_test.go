package preflight

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
)

// accountConfig is a preflight config without an identity token, the
// token to come from the account through a provider, against a simulator
// whose identity server publishes terms (none if empty).
func accountConfig(t *testing.T, terms []simulator.Policy, accept bool) (Config, *simulator.Server) {
	t.Helper()
	sim, ts := simtest.NewServer(t, simulator.Config{Terms: terms})
	client := matrix.NewClient(matrix.ClientConfig{HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken, IdentityScheme: "http"})
	return Config{
		Client: client, Room: simulator.DefaultRoomID, IDServer: simtest.IDServer(ts), Sender: "default",
		IdentityTokens: matrix.NewIdentityTokens(client, matrix.IdentityTokensConfig{AcceptTerms: accept}),
	}, sim
}

// check returns the named check, failing the test if it is missing.
func check(t *testing.T, r Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %q check in %v", name, r.Checks)
	return Check{}
}

func TestIdentityTokenFromTheAccount(t *testing.T) {
	cfg, sim := accountConfig(t, nil, false)
	r := run(t, cfg)
	if !r.OK() || len(r.Checks) != 6 {
		t.Fatalf("report %v", r.Checks)
	}
	c := check(t, r, CheckIdentityToken)
	if !strings.Contains(c.String(), "✓ identity token: registered with "+cfg.IDServer) {
		t.Errorf("line %q", c)
	}
	if ids := check(t, r, CheckIdentityServer); !ids.OK {
		t.Errorf("the obtained token was not used: %s", ids)
	}
	if req := sim.Requests(); req["is_register"] != 1 || req["is_account"] != 1 {
		t.Errorf("register %d, account %d", req["is_register"], req["is_account"])
	}
}

func TestConfiguredIdentityTokenWins(t *testing.T) {
	cfg, sim := accountConfig(t, nil, false)
	cfg.IDAccessToken = simulator.DefaultIDAccessToken
	r := run(t, cfg)
	if req := sim.Requests(); !r.OK() || len(r.Checks) != 5 || req["is_register"] != 0 || req["openid"] != 0 {
		t.Errorf("checks %v; register %d, openid %d", r.Checks, req["is_register"], req["openid"])
	}
}

func TestIdentityTermsNotAccepted(t *testing.T) {
	terms := []simulator.Policy{{Name: "terms_of_service", Version: "1.0", URL: "https://id.example.org/tos-en"},
		{Name: "privacy_policy", Version: "1.0", URL: "https://id.example.org/pp-en"}}
	cfg, sim := accountConfig(t, terms, false)
	r := run(t, cfg)
	c := check(t, r, CheckIdentityToken)
	for _, want := range []string{"✗ identity token: ", "wants its terms accepted", "privacy_policy version 1.0: https://id.example.org/pp-en",
		"terms_of_service version 1.0: https://id.example.org/tos-en", "rerun with --accept-identity-terms"} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("line %q lacks %q", c, want)
		}
	}
	if ids := check(t, r, CheckIdentityServer); ids.OK || !strings.Contains(ids.Detail, "needs an identity token") {
		t.Errorf("identity server check %s", ids)
	}
	if req := sim.Requests(); r.OK() || req["is_accept_terms"] != 0 || sim.TermsSigned(simulator.DefaultUserID) {
		t.Errorf("OK %v, %d POST /terms", r.OK(), req["is_accept_terms"])
	}

	cfg.IdentityTokens = matrix.NewIdentityTokens(cfg.Client, matrix.IdentityTokensConfig{AcceptTerms: true})
	r = run(t, cfg)
	if !r.OK() {
		t.Fatalf("with AcceptTerms: %v", r.Checks)
	}
	// The simulator takes only the published URLs: signed means both
	// were accepted, in one call.
	if st := sim.Stats(); !sim.TermsSigned(simulator.DefaultUserID) || st.TermsAccepted[simulator.DefaultUserID] != 1 || st.Requests["is_accept_terms"] != 1 {
		t.Errorf("signed %v, accepted in %d of %d calls", sim.TermsSigned(simulator.DefaultUserID), st.TermsAccepted[simulator.DefaultUserID], st.Requests["is_accept_terms"])
	}
}

func TestIdentityTokenHomeserverRefusesOpenID(t *testing.T) {
	cfg, _ := accountConfig(t, nil, false)
	cfg.Client = matrix.NewClient(matrix.ClientConfig{HomeserverURL: "http://127.0.0.1:1", AccessToken: "x", IdentityScheme: "http"})
	cfg.IdentityTokens = matrix.NewIdentityTokens(cfg.Client, matrix.IdentityTokensConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Run(ctx, cfg)
	if c := check(t, r, CheckIdentityToken); c.OK || !strings.Contains(c.Detail, "could not get one from the account (whoami: NetworkError") {
		t.Errorf("line %q", c)
	}
}
