package matrix

import (
	"bytes"
	"net/url"
	"sort"
	"strings"
)

// redactedText replaces secrets, as libQuotient does in its logs and messages.
const redactedText = "(REDACTED)"

// redactor replaces every occurrence of known secrets (the access token, the
// identity-server token) with "(REDACTED)". Servers echo tokens back in error
// messages and URLs in transport errors, so everything shown is filtered.
type redactor struct {
	secrets []string // longest first, so a secret containing another goes whole
}

// newRedactor ignores empty secrets (replacing "" would insert the marker
// between every byte) and also covers the percent-encoded forms, which appear
// when a token ended up in a URL.
func newRedactor(secrets ...string) redactor {
	seen := make(map[string]bool)
	var r redactor
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			r.secrets = append(r.secrets, s)
		}
	}
	for _, s := range secrets {
		add(s)
		add(url.QueryEscape(s))
		add(url.PathEscape(s))
	}
	sort.SliceStable(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

// String returns s with every secret replaced.
func (r redactor) String(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redactedText)
	}
	return s
}

// Bytes returns b with every secret replaced; b itself is not modified.
func (r redactor) Bytes(b []byte) []byte {
	for _, secret := range r.secrets {
		b = bytes.ReplaceAll(b, []byte(secret), []byte(redactedText))
	}
	return b
}
