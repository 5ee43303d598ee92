package matrix

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeIS is a homeserver (whoami, openid) and a Sydent-like identity
// server (register, account, terms) on one httptest server, for the
// identity-token provider's tests.
type fakeIS struct {
	*httptest.Server
	user string

	mu            sync.Mutex
	policies      map[string]string                              // policy name → URL (version "1.0", language "en")
	accepted      map[string]bool                                // URLs the user accepted (consent is per user)
	openIDs       map[string]bool                                // OpenID tokens issued, not yet exchanged
	tokens        map[string]bool                                // identity tokens valid now
	registerGate  chan struct{}                                  // when set, register waits for it to close
	calls         map[string]int                                 // requests per endpoint
	acceptBodies  []string                                       // bodies of POST /terms
	errorEchoes   bool                                           // error messages repeat the token sent
	accountAnswer func(w http.ResponseWriter, token string) bool // when set and true, replaces GET /account's answer
}

func newFakeIS(t *testing.T) *fakeIS {
	f := &fakeIS{user: "@bot:example.org", policies: map[string]string{}, accepted: map[string]bool{},
		openIDs: map[string]bool{}, tokens: map[string]bool{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/client/v3/account/whoami", f.whoami)
	mux.HandleFunc("POST /_matrix/client/v3/user/{user}/openid/request_token", f.openID)
	mux.HandleFunc("POST /_matrix/identity/v2/account/register", f.register)
	mux.HandleFunc("GET /_matrix/identity/v2/account", f.account)
	mux.HandleFunc("GET /_matrix/identity/v2/terms", f.terms)
	mux.HandleFunc("POST /_matrix/identity/v2/terms", f.accept)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

// host is the server as id_server.
func (f *fakeIS) host() string { return strings.TrimPrefix(f.URL, "http://") }

// client is a homeserver client with the user's token.
func (f *fakeIS) client() *Client { return newTestClient(f.URL) }

func (f *fakeIS) count(endpoint string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[endpoint]
}

func (f *fakeIS) setPolicy(name, url string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policies[name] = url
}

func (f *fakeIS) revoke(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tokens, token)
}

func (f *fakeIS) answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeIS) refuse(w http.ResponseWriter, status int, code, msg string) {
	f.answer(w, status, map[string]string{"errcode": code, "error": msg})
}

// bearer counts the call and returns the request's bearer token.
func (f *fakeIS) bearer(r *http.Request, endpoint string) string {
	f.mu.Lock()
	f.calls[endpoint]++
	f.mu.Unlock()
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (f *fakeIS) whoami(w http.ResponseWriter, r *http.Request) {
	if f.bearer(r, "whoami") != testToken {
		f.refuse(w, 401, "M_UNKNOWN_TOKEN", "Invalid access token")
		return
	}
	f.answer(w, 200, map[string]string{"user_id": f.user})
}

func (f *fakeIS) openID(w http.ResponseWriter, r *http.Request) {
	if f.bearer(r, "openid") != testToken || r.PathValue("user") != f.user {
		f.refuse(w, 403, "M_FORBIDDEN", "Cannot request tokens for other users.")
		return
	}
	f.mu.Lock()
	tok := fmt.Sprintf("openid-secret-%d", f.calls["openid"])
	f.openIDs[tok] = true
	f.mu.Unlock()
	f.answer(w, 200, map[string]any{"access_token": tok, "token_type": "Bearer", "matrix_server_name": "example.org", "expires_in": 3600})
}

func (f *fakeIS) register(w http.ResponseWriter, r *http.Request) {
	f.bearer(r, "register")
	f.mu.Lock()
	gate := f.registerGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	var body OpenIDToken
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.openIDs[body.AccessToken] || body.MatrixServerName != "example.org" {
		f.refuse(w, 401, "M_UNAUTHORIZED", "Unable to validate the OpenID token")
		return
	}
	delete(f.openIDs, body.AccessToken)
	tok := fmt.Sprintf("ist-SECRET-%d", f.calls["register"])
	f.tokens[tok] = true
	f.answer(w, 200, map[string]string{"token": tok, "access_token": tok})
}

// signed reports whether the user accepted every current policy.
func (f *fakeIS) signed() bool {
	for _, url := range f.policies {
		if !f.accepted[url] {
			return false
		}
	}
	return true
}

func (f *fakeIS) account(w http.ResponseWriter, r *http.Request) {
	tok := f.bearer(r, "account")
	f.mu.Lock()
	valid, signed, custom, echo := f.tokens[tok], f.signed(), f.accountAnswer, f.errorEchoes
	f.mu.Unlock()
	switch {
	case custom != nil && custom(w, tok):
	case !valid && echo:
		f.refuse(w, 401, "M_UNAUTHORIZED", "Unknown token "+tok)
	case !valid:
		f.refuse(w, 401, "M_UNAUTHORIZED", "Unauthorized")
	case !signed && echo:
		f.refuse(w, 403, "M_TERMS_NOT_SIGNED", "Terms not signed for "+tok)
	case !signed:
		f.refuse(w, 403, "M_TERMS_NOT_SIGNED", "Terms not signed")
	default:
		f.answer(w, 200, map[string]string{"user_id": f.user})
	}
}

func (f *fakeIS) terms(w http.ResponseWriter, r *http.Request) {
	f.bearer(r, "terms")
	f.mu.Lock()
	defer f.mu.Unlock()
	policies := map[string]any{}
	for name, url := range f.policies {
		policies[name] = map[string]any{"version": "1.0", "en": map[string]string{"name": strings.ToUpper(name), "url": url}}
	}
	f.answer(w, 200, map[string]any{"policies": policies})
}

func (f *fakeIS) accept(w http.ResponseWriter, r *http.Request) {
	tok := f.bearer(r, "accept")
	var body struct {
		UserAccepts []string `json:"user_accepts"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(body)
	f.acceptBodies = append(f.acceptBodies, string(b))
	if !f.tokens[tok] {
		f.refuse(w, 401, "M_UNAUTHORIZED", "Unauthorized")
		return
	}
	for _, u := range body.UserAccepts {
		f.accepted[u] = true
	}
	f.answer(w, 200, map[string]any{})
}
