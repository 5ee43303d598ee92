// Package simoverlay adds to a simulator, for tests, what the preflight and
// CLI tests of issue 10 need and the simulator did not serve when they were
// written: identity-server terms (GET and POST /_matrix/identity/v2/terms,
// and 403 M_TERMS_NOT_SIGNED on GET /_matrix/identity/v2/account until
// they are accepted, as Sydent does) and Synapse's admin API
// /_synapse/admin/v1/users/{userId}/override_ratelimit. Every other request
// goes to the simulator, whose register, OpenID and hash_details stay the
// authority on tokens.
package simoverlay

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// Config says what the overlay serves. The zero value has no terms and
// lets simulator.DefaultAccessToken administer rate limits.
type Config struct {
	// Policies maps policy names to their English document's URL, all of
	// version "1.0". Empty: the identity server has no terms.
	Policies map[string]string
	// AdminToken is the access token Synapse would treat as a server
	// admin's. Default simulator.DefaultAccessToken; "-" means nobody.
	AdminToken string
}

// Overlay is the handler in front of a simulator.
type Overlay struct {
	sim   http.Handler
	cfg   Config
	mu    sync.Mutex
	seen  map[string]int    // requests per endpoint name
	ok    map[string]bool   // URLs the user accepted
	rates map[string]string // override_ratelimit JSON per escaped path
}

// Start runs a simulator for simCfg behind an overlay for cfg on a loopback
// httptest server, closed when the test ends.
func Start(t testing.TB, simCfg simulator.Config, cfg Config) (*simulator.Server, *Overlay, *httptest.Server) {
	t.Helper()
	sim, simTS := simtest.NewServer(t, simCfg)
	_ = simTS // the simulator answers through the overlay's server
	if cfg.AdminToken == "" {
		cfg.AdminToken = simulator.DefaultAccessToken
	}
	o := &Overlay{sim: sim.Handler(), cfg: cfg, seen: map[string]int{}, ok: map[string]bool{}, rates: map[string]string{}}
	ts := httptest.NewServer(o)
	t.Cleanup(ts.Close)
	return sim, o, ts
}

// Count returns how many requests an endpoint got: "register",
// "openid", "account", "terms", "accept_terms", "override_get",
// "override_set", "override_delete".
func (o *Overlay) Count(endpoint string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen[endpoint]
}

// Accepted returns the URLs accepted so far, sorted.
func (o *Overlay) Accepted() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var urls []string
	for u := range o.ok {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	return urls
}

// Override returns the stored override_ratelimit JSON of a user, "" if none.
func (o *Overlay) Override(user string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rates["/_synapse/admin/v1/users/"+user+"/override_ratelimit"]
}

// ServeHTTP serves the overlay's endpoints and passes the rest on.
func (o *Overlay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case r.Method == http.MethodGet && path == "/_matrix/identity/v2/account":
		o.count("account")
		o.account(w, r)
	case path == "/_matrix/identity/v2/terms" && r.Method == http.MethodGet:
		o.count("terms")
		o.terms(w)
	case path == "/_matrix/identity/v2/terms" && r.Method == http.MethodPost:
		o.count("accept_terms")
		o.accept(w, r)
	case strings.HasPrefix(path, "/_synapse/admin/v1/users/") && strings.HasSuffix(path, "/override_ratelimit"):
		o.override(w, r, path)
	default:
		switch {
		case path == "/_matrix/identity/v2/account/register":
			o.count("register")
		case strings.HasSuffix(path, "/openid/request_token"):
			o.count("openid")
		}
		o.sim.ServeHTTP(w, r)
	}
}

func (o *Overlay) count(endpoint string) {
	o.mu.Lock()
	o.seen[endpoint]++
	o.mu.Unlock()
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func refuse(w http.ResponseWriter, status int, code, msg string) {
	answer(w, status, map[string]string{"errcode": code, "error": msg})
}

// validIDToken asks the simulator whether it issued the identity token.
func (o *Overlay) validIDToken(r *http.Request) bool {
	probe := httptest.NewRequest(http.MethodGet, "/_matrix/identity/v2/hash_details", nil)
	probe.Header.Set("Authorization", r.Header.Get("Authorization"))
	rec := httptest.NewRecorder()
	o.sim.ServeHTTP(rec, probe)
	return rec.Code == http.StatusOK
}

// signed reports whether every policy was accepted. The caller holds mu.
func (o *Overlay) signed() bool {
	for _, url := range o.cfg.Policies {
		if !o.ok[url] {
			return false
		}
	}
	return true
}

func (o *Overlay) account(w http.ResponseWriter, r *http.Request) {
	if !o.validIDToken(r) {
		refuse(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Unauthorized")
		return
	}
	o.mu.Lock()
	signed := o.signed()
	o.mu.Unlock()
	if !signed {
		refuse(w, http.StatusForbidden, "M_TERMS_NOT_SIGNED", "Terms not signed")
		return
	}
	answer(w, http.StatusOK, map[string]string{"user_id": simulator.DefaultUserID})
}

func (o *Overlay) terms(w http.ResponseWriter) {
	policies := map[string]any{}
	for name, url := range o.cfg.Policies {
		policies[name] = map[string]any{"version": "1.0", "en": map[string]string{"name": name, "url": url}}
	}
	answer(w, http.StatusOK, map[string]any{"policies": policies})
}

func (o *Overlay) accept(w http.ResponseWriter, r *http.Request) {
	if !o.validIDToken(r) {
		refuse(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Unauthorized")
		return
	}
	var body struct {
		UserAccepts []string `json:"user_accepts"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
		refuse(w, http.StatusBadRequest, "M_BAD_JSON", "Malformed JSON")
		return
	}
	o.mu.Lock()
	for _, u := range body.UserAccepts {
		o.ok[u] = true
	}
	o.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{})
}

// override serves override_ratelimit like Synapse: admins only.
func (o *Overlay) override(w http.ResponseWriter, r *http.Request, path string) {
	if r.Header.Get("Authorization") != "Bearer "+o.cfg.AdminToken {
		o.count("override_refused")
		refuse(w, http.StatusForbidden, "M_FORBIDDEN", "You are not a server admin")
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch r.Method {
	case http.MethodGet:
		o.seen["override_get"]++
		stored, ok := o.rates[path]
		if !ok {
			stored = "{}"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, stored)
	case http.MethodPost:
		o.seen["override_set"]++
		var body struct {
			MessagesPerSecond *int `json:"messages_per_second"`
			BurstCount        *int `json:"burst_count"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil || body.MessagesPerSecond == nil || body.BurstCount == nil {
			refuse(w, http.StatusBadRequest, "M_INVALID_PARAM", "messages_per_second and burst_count must be positive ints")
			return
		}
		b, _ := json.Marshal(map[string]int{"messages_per_second": *body.MessagesPerSecond, "burst_count": *body.BurstCount})
		o.rates[path] = string(b)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	case http.MethodDelete:
		o.seen["override_delete"]++
		delete(o.rates, path)
		answer(w, http.StatusOK, map[string]any{})
	default:
		refuse(w, http.StatusMethodNotAllowed, "M_UNRECOGNIZED", "Unrecognized request")
	}
}
