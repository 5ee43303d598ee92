package matrix

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func tokenCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestIdentityTokensElementFlow(t *testing.T) {
	f := newFakeIS(t)
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	ctx := tokenCtx(t)
	tok, err := p.Token(ctx, f.host())
	if err != nil || tok != "ist-SECRET-1" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	again, err := p.Token(ctx, f.host())
	if err != nil || again != tok {
		t.Fatalf("second Token = %q, %v", again, err)
	}
	for endpoint, want := range map[string]int{"whoami": 1, "openid": 1, "register": 1, "account": 1, "terms": 0, "accept": 0} {
		if got := f.count(endpoint); got != want {
			t.Errorf("%s called %d times, want %d", endpoint, got, want)
		}
	}
	if st := p.Stats(); st != (IdentityTokenStats{Registrations: 1}) {
		t.Errorf("stats %+v", st)
	}
}

func TestIdentityTokensConcurrentCallersShareOneRegistration(t *testing.T) {
	f := newFakeIS(t)
	gate := make(chan struct{})
	f.registerGate = gate
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	ctx := tokenCtx(t)
	const callers = 20
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() { tokens[i], errs[i] = p.Token(ctx, f.host()) })
	}
	close(gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || tokens[i] != "ist-SECRET-1" {
			t.Errorf("caller %d: %q, %v", i, tokens[i], errs[i])
		}
	}
	if n := f.count("register"); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
}

func TestIdentityTokensTerms(t *testing.T) {
	f := newFakeIS(t)
	f.setPolicy("privacy_policy", "https://id.example.org/privacy-en")
	f.setPolicy("terms_of_service", "https://id.example.org/tos-en")
	ctx := tokenCtx(t)

	// Without AcceptTerms: a *TermsError naming each document.
	refuser := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	for range 2 {
		_, err := refuser.Token(ctx, f.host())
		var te *TermsError
		if !errors.Is(err, ErrTermsNotSigned) || !errors.As(err, &te) || te.IDServer != f.host() || len(te.Documents) != 2 {
			t.Fatalf("err = %v", err)
		}
		want := TermsDocument{Name: "privacy_policy", Version: "1.0", Language: "en", Title: "PRIVACY_POLICY", URL: "https://id.example.org/privacy-en"}
		if te.Documents[0] != want || te.Documents[1].URL != "https://id.example.org/tos-en" {
			t.Errorf("documents %+v", te.Documents)
		}
		if !strings.Contains(err.Error(), "https://id.example.org/tos-en") || !strings.Contains(err.Error(), "version 1.0") {
			t.Errorf("message %q", err)
		}
	}
	// The pending token is kept: asking again does not register again.
	if f.count("register") != 1 || f.count("accept") != 0 {
		t.Fatalf("register %d, accept %d", f.count("register"), f.count("accept"))
	}

	// With AcceptTerms (another process): registers, accepts every URL once.
	acceptor := NewIdentityTokens(f.client(), IdentityTokensConfig{AcceptTerms: true})
	tok, err := acceptor.Token(ctx, f.host())
	if err != nil || tok != "ist-SECRET-2" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	if len(f.acceptBodies) != 1 || f.acceptBodies[0] != `{"user_accepts":["https://id.example.org/privacy-en","https://id.example.org/tos-en"]}` {
		t.Errorf("POST /terms bodies %q", f.acceptBodies)
	}
	if st := acceptor.Stats(); st != (IdentityTokenStats{Registrations: 1, TermsAccepted: 1}) {
		t.Errorf("stats %+v", st)
	}

	// Consent is per user: a third process registers and needs no accept,
	// and the first one's pending token now passes without registering.
	if _, err := NewIdentityTokens(f.client(), IdentityTokensConfig{AcceptTerms: true}).Token(ctx, f.host()); err != nil {
		t.Fatal(err)
	}
	if tok, err := refuser.Token(ctx, f.host()); err != nil || tok != "ist-SECRET-1" {
		t.Errorf("refuser after consent: %q, %v", tok, err)
	}
	if f.count("accept") != 1 || f.count("register") != 3 {
		t.Errorf("accept %d (want 1), register %d (want 3)", f.count("accept"), f.count("register"))
	}
}

func TestIdentityTokensConcurrentTermsErrorRegistersOnce(t *testing.T) {
	f := newFakeIS(t)
	f.setPolicy("tos", "https://id.example.org/tos")
	gate := make(chan struct{})
	f.registerGate = gate
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	ctx := tokenCtx(t)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { _, errs[i] = p.Token(ctx, f.host()) })
	}
	close(gate)
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, ErrTermsNotSigned) {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if n := f.count("register"); n != 1 {
		t.Errorf("%d registrations, want 1", n)
	}
}

func TestIdentityTokensInvalidate(t *testing.T) {
	f := newFakeIS(t)
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	ctx := tokenCtx(t)
	first, err := p.Token(ctx, f.host())
	if err != nil {
		t.Fatal(err)
	}
	p.Invalidate("not-a-token-we-hold")
	if tok, _ := p.Token(ctx, f.host()); tok != first || f.count("register") != 1 {
		t.Fatalf("an unknown token invalidated %q", first)
	}
	f.revoke(first) // the identity server forgot it: callers see 401
	p.Invalidate(first)
	second, err := p.Token(ctx, f.host())
	if err != nil || second == first || f.count("register") != 2 {
		t.Fatalf("after Invalidate: %q, %v, %d registrations", second, err, f.count("register"))
	}
	p.Invalidate(first) // late reports of the old token's 401 change nothing
	if tok, _ := p.Token(ctx, f.host()); tok != second || f.count("register") != 2 {
		t.Errorf("a stale Invalidate dropped the new token: %q", tok)
	}
}

func TestIdentityTokensFailures(t *testing.T) {
	ctx := tokenCtx(t)
	f := newFakeIS(t)

	badHS := NewIdentityTokens(newTestClient(f.URL, func(c *ClientConfig) { c.AccessToken = "dead" }), IdentityTokensConfig{})
	_, err := badHS.Token(ctx, f.host())
	var ite *IdentityTokenError
	if !errors.Is(err, ErrIdentityToken) || !errors.As(err, &ite) || ite.Step != "whoami" || ite.Outcome.Status.Code != Unauthorised {
		t.Fatalf("bad homeserver token: %v", err)
	}

	var mu sync.Mutex
	answer := func(w http.ResponseWriter, _ string) bool {
		reply(500, `{"errcode":"M_UNKNOWN","error":"Internal error"}`)(w, nil)
		return true
	}
	f.accountAnswer = func(w http.ResponseWriter, tok string) bool {
		mu.Lock()
		defer mu.Unlock()
		return answer != nil && answer(w, tok)
	}
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	if _, err := p.Token(ctx, f.host()); !errors.As(err, &ite) || ite.Step != "account" || ite.Outcome.HTTPStatus != 500 {
		t.Fatalf("account 500: %v", err)
	}
	// A failure is not cached: the next call tries again (and reuses nothing
	// unchecked: the token registered is checked again).
	mu.Lock()
	answer = nil
	mu.Unlock()
	if tok, err := p.Token(ctx, f.host()); err != nil || tok == "" {
		t.Fatalf("after the identity server recovered: %q, %v", tok, err)
	}

	other := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	mu.Lock()
	answer = func(w http.ResponseWriter, _ string) bool {
		reply(200, `{"user_id":"@someone-else:example.org"}`)(w, nil)
		return true
	}
	mu.Unlock()
	if _, err := other.Token(ctx, f.host()); !errors.As(err, &ite) || !strings.Contains(ite.Problem, "@someone-else:example.org") {
		t.Errorf("a token of another user: %v", err)
	}

	if _, err := p.Token(ctx, "https://"+f.host()); !errors.As(err, &ite) || ite.Outcome.Status.Code != IncorrectRequest {
		t.Errorf("a bad id_server: %v", err)
	}
}

func TestIdentityTokensWaitRespectsContext(t *testing.T) {
	f := newFakeIS(t)
	gate := make(chan struct{})
	f.registerGate = gate
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	ctx := tokenCtx(t)
	done := make(chan error, 1)
	go func() { _, err := p.Token(ctx, f.host()); done <- err }()
	for i := 0; f.count("register") == 0; i++ { // the first caller is registering
		if i > 2000 {
			t.Fatal("register was never called")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Token(cancelled, f.host()); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled waiter got %v", err)
	}
	close(gate)
	if err := <-done; err != nil {
		t.Errorf("the registering caller: %v", err)
	}
}

// TestIdentityTokensNeverShowTheToken: neither the identity token nor the
// OpenID token appears in errors or debug logs, even when servers echo them.
func TestIdentityTokensNeverShowTheToken(t *testing.T) {
	f := newFakeIS(t)
	f.errorEchoes = true
	f.setPolicy("tos", "https://id.example.org/tos")
	var logs bytes.Buffer
	ctx := zerolog.New(&logs).Level(zerolog.DebugLevel).WithContext(tokenCtx(t))
	p := NewIdentityTokens(f.client(), IdentityTokensConfig{})
	_, termsErr := p.Token(ctx, f.host())
	if !errors.Is(termsErr, ErrTermsNotSigned) {
		t.Fatalf("err = %v", termsErr)
	}
	f.accountAnswer = func(w http.ResponseWriter, tok string) bool {
		reply(500, `{"errcode":"M_UNKNOWN","error":"failed for `+tok+`"}`)(w, nil)
		return true
	}
	_, accountErr := NewIdentityTokens(f.client(), IdentityTokensConfig{}).Token(ctx, f.host())
	var ite *IdentityTokenError
	if !errors.As(accountErr, &ite) {
		t.Fatalf("err = %v", accountErr)
	}
	shown := termsErr.Error() + accountErr.Error() + ite.Outcome.Status.Message + ite.Outcome.ServerError + string(ite.Outcome.BodySample) + logs.String()
	if !strings.Contains(logs.String(), "matrix call") {
		t.Fatalf("no debug logs: %s", logs.String())
	}
	for _, secret := range []string{"ist-SECRET", "openid-secret", testToken} {
		if strings.Contains(shown, secret) {
			t.Errorf("%q shown:\n%s", secret, shown)
		}
	}
}
