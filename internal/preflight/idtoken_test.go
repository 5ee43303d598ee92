package preflight

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simoverlay"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
)

// overlayConfig is a preflight config without an identity token, the
// token to come from the account through a provider.
func overlayConfig(t *testing.T, policies map[string]string, accept bool) (Config, *simoverlay.Overlay) {
	t.Helper()
	_, o, ts := simoverlay.Start(t, simulator.Config{}, simoverlay.Config{Policies: policies, AdminToken: "-"})
	client := matrix.NewClient(matrix.ClientConfig{HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken, IdentityScheme: "http"})
	return Config{
		Client: client, Room: simulator.DefaultRoomID, IDServer: simtest.IDServer(ts), Sender: "default",
		IdentityTokens: matrix.NewIdentityTokens(client, matrix.IdentityTokensConfig{AcceptTerms: accept}),
	}, o
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
	cfg, o := overlayConfig(t, nil, false)
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
	if o.Count("register") != 1 || o.Count("account") != 1 {
		t.Errorf("register %d, account %d", o.Count("register"), o.Count("account"))
	}
}

func TestConfiguredIdentityTokenWins(t *testing.T) {
	cfg, o := overlayConfig(t, nil, false)
	cfg.IDAccessToken = simulator.DefaultIDAccessToken
	r := run(t, cfg)
	if !r.OK() || len(r.Checks) != 5 || o.Count("register") != 0 || o.Count("openid") != 0 {
		t.Errorf("checks %v; register %d", r.Checks, o.Count("register"))
	}
}

func TestIdentityTermsNotAccepted(t *testing.T) {
	policies := map[string]string{"terms_of_service": "https://id.example.org/tos-en", "privacy_policy": "https://id.example.org/pp-en"}
	cfg, o := overlayConfig(t, policies, false)
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
	if r.OK() || o.Count("accept_terms") != 0 || len(o.Accepted()) != 0 {
		t.Errorf("OK %v, accepted %v", r.OK(), o.Accepted())
	}

	cfg.IdentityTokens = matrix.NewIdentityTokens(cfg.Client, matrix.IdentityTokensConfig{AcceptTerms: true})
	r = run(t, cfg)
	if !r.OK() {
		t.Fatalf("with AcceptTerms: %v", r.Checks)
	}
	if got := strings.Join(o.Accepted(), " "); got != "https://id.example.org/pp-en https://id.example.org/tos-en" || o.Count("accept_terms") != 1 {
		t.Errorf("accepted %q in %d calls", got, o.Count("accept_terms"))
	}
}

func TestIdentityTokenHomeserverRefusesOpenID(t *testing.T) {
	cfg, _ := overlayConfig(t, nil, false)
	cfg.Client = matrix.NewClient(matrix.ClientConfig{HomeserverURL: "http://127.0.0.1:1", AccessToken: "x", IdentityScheme: "http"})
	cfg.IdentityTokens = matrix.NewIdentityTokens(cfg.Client, matrix.IdentityTokensConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := Run(ctx, cfg)
	if c := check(t, r, CheckIdentityToken); c.OK || !strings.Contains(c.Detail, "could not get one from the account (whoami: NetworkError") {
		t.Errorf("line %q", c)
	}
}
