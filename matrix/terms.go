package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
)

// termsLanguage is the language picked when a policy offers several.
const termsLanguage = "en"

// Terms are the policies an identity server asks its users to accept.
type Terms struct {
	// Documents lists one document per policy, sorted by Name. Policies
	// without a usable URL are left out: there is nothing to accept.
	Documents []TermsDocument
}

// URLs returns the documents' URLs, the values AcceptTerms sends.
func (t Terms) URLs() []string {
	urls := make([]string, 0, len(t.Documents))
	for _, d := range t.Documents {
		urls = append(urls, d.URL)
	}
	return urls
}

// TermsDocument is one policy in one language.
type TermsDocument struct {
	// Name is the policy's key, e.g. "privacy_policy".
	Name string `json:"name"`
	// Version is the policy's version, e.g. "1.2".
	Version string `json:"version"`
	// Language is the language picked: "en" when offered, else the first
	// offered in alphabetical order.
	Language string `json:"language"`
	// Title is the document's human-readable name, e.g. "Privacy Policy".
	Title string `json:"title,omitempty"`
	// URL is where the document is, and what accepting it sends.
	URL string `json:"url"`
}

// Terms calls GET /_matrix/identity/v2/terms (spec: identity service API,
// "GET /_matrix/identity/v2/terms"), which needs no token. The answer is
// {"policies": {NAME: {"version": V, LANG: {"name": N, "url": U}}}}; entries
// of another shape are skipped rather than failing the whole answer.
func (ic *IdentityClient) Terms(ctx context.Context, opts ...CallOption) (Terms, Outcome) {
	var resp struct {
		Policies map[string]map[string]json.RawMessage `json:"policies"`
	}
	o := ic.c.doJSON(ctx, ic.newCall(http.MethodGet, "", nil, opts, "terms"), &resp)
	if !o.Status.Good() {
		return Terms{}, o
	}
	var t Terms
	for name, policy := range resp.Policies {
		if doc, ok := pickDocument(name, policy); ok {
			t.Documents = append(t.Documents, doc)
		}
	}
	sort.Slice(t.Documents, func(i, j int) bool { return t.Documents[i].Name < t.Documents[j].Name })
	return t, o
}

// pickDocument chooses the policy's document in termsLanguage, else in the
// first language (alphabetically) that has a URL.
func pickDocument(name string, policy map[string]json.RawMessage) (TermsDocument, bool) {
	doc := TermsDocument{Name: name}
	_ = json.Unmarshal(policy["version"], &doc.Version) // a mistyped version stays empty
	languages := make([]string, 0, len(policy))
	for key := range policy {
		if key != "version" {
			languages = append(languages, key)
		}
	}
	sort.Slice(languages, func(i, j int) bool {
		// termsLanguage first, then alphabetical.
		if (languages[i] == termsLanguage) != (languages[j] == termsLanguage) {
			return languages[i] == termsLanguage
		}
		return languages[i] < languages[j]
	})
	for _, lang := range languages {
		var entry struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		}
		if json.Unmarshal(policy[lang], &entry) == nil && entry.URL != "" {
			doc.Language, doc.Title, doc.URL = lang, entry.Name, entry.URL
			return doc, true
		}
	}
	return TermsDocument{}, false
}

// AcceptTerms calls POST /_matrix/identity/v2/terms (spec: identity service
// API, "POST /_matrix/identity/v2/terms") with {"user_accepts": urls} and
// the identity token as Bearer token. Identity servers keep the consent per
// user, so it is needed once per user and terms version, not per token.
func (ic *IdentityClient) AcceptTerms(ctx context.Context, token string, urls []string, opts ...CallOption) Outcome {
	if urls == nil {
		urls = []string{} // the key holds a list, even an empty one
	}
	body, _ := json.Marshal(struct {
		UserAccepts []string `json:"user_accepts"`
	}{urls})
	if token == "" {
		return ic.c.rejectedCall(ctx, ic.newCall(http.MethodPost, "", body, opts, "terms"), "no identity access token")
	}
	return ic.c.doJSON(ctx, ic.newCall(http.MethodPost, token, body, opts, "terms"), &json.RawMessage{})
}
