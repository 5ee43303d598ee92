package simulator

import (
	"fmt"
	"net/http"
	"strings"
)

// Policy is one document of the identity server's terms of service, as
// GET /_matrix/identity/v2/terms lists it. Consent is given to its URL,
// so a new version of a policy must have a new URL (as Sydent's have) for
// users to be asked again.
type Policy struct {
	// Name is the policy's key in "policies", e.g. "privacy_policy".
	Name string `json:"name"`
	// Version is the policy's version, e.g. "1.0".
	Version string `json:"version"`
	// URL is the English document's address: what users accept.
	URL string `json:"url"`
	// Title is the English document's name. Default: Name.
	Title string `json:"title,omitempty"`
}

// DefaultPolicy is the policy Config.RequireTerms publishes: a privacy
// policy, version 1.0.
func DefaultPolicy() Policy {
	return Policy{Name: "privacy_policy", Version: "1.0", Title: "Privacy Policy",
		URL: "https://" + DefaultServerName + "/_sim/terms/privacy_policy-1.0.html"}
}

// validatePolicies checks a set of terms: every field set, names and
// URLs unique.
func validatePolicies(field string, ps []Policy) []error {
	var errs []error
	names, urls := map[string]bool{}, map[string]bool{}
	for i, p := range ps {
		bad := func(sub, format string, args ...any) {
			errs = append(errs, fmt.Errorf("simulator: Config.%s[%d].%s: %s", field, i, sub, fmt.Sprintf(format, args...)))
		}
		switch {
		case p.Name == "":
			bad("Name", "empty")
		case names[p.Name]:
			bad("Name", "%q used twice", p.Name)
		}
		if p.Version == "" {
			bad("Version", "empty")
		}
		switch {
		case !strings.HasPrefix(p.URL, "https://") && !strings.HasPrefix(p.URL, "http://"):
			bad("URL", "%q is not an http(s) URL", p.URL)
		case urls[p.URL]:
			bad("URL", "%q used twice", p.URL)
		}
		names[p.Name], urls[p.URL] = true, true
	}
	return errs
}

// handleTerms serves GET /_matrix/identity/v2/terms (no authentication):
// {"policies": {NAME: {"version": V, "en": {"name", "url"}}}}.
func (s *Server) handleTerms(w http.ResponseWriter, _ *http.Request) {
	policies := map[string]any{}
	for _, p := range s.ids.currentTerms() {
		title := p.Title
		if title == "" {
			title = p.Name
		}
		policies[p.Name] = map[string]any{"version": p.Version, "en": map[string]string{"name": title, "url": p.URL}}
	}
	writeJSON(w, http.StatusOK, map[string]any{"policies": policies})
}

// handleAcceptTerms serves POST /_matrix/identity/v2/terms
// {"user_accepts": [url, ...]}: the token's user accepts those documents.
// Like Sydent, a URL that is not one of the current terms is refused
// (400 M_UNKNOWN) and nothing is recorded; consent is kept per user.
func (s *Server) handleAcceptTerms(w http.ResponseWriter, r *http.Request) {
	tok, ok := s.ids.authorize(w, r, false)
	if !ok {
		return
	}
	var body struct {
		UserAccepts []string `json:"user_accepts"`
	}
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
		rep.write(w)
		return
	}
	if body.UserAccepts == nil {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAMS", "Missing parameters: user_accepts")
		return
	}
	if unknown := s.ids.accept(tok.userID, body.UserAccepts); len(unknown) > 0 {
		writeError(w, http.StatusBadRequest, "M_UNKNOWN", "Unrecognised URLs: "+strings.Join(unknown, ", "))
		return
	}
	s.rec.count(func(st *Stats) { st.TermsAccepted[tok.userID]++ })
	writeJSON(w, http.StatusOK, struct{}{})
}
