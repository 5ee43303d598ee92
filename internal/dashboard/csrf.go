package dashboard

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

// csrf makes and checks the form tokens of the dashboard's POSTs, on top of
// the Guard's cross-origin check: a token is a MAC of the session it was
// shown to, under a key of this process (sessions live in the process too).
type csrf struct{ key []byte }

func newCSRF() (csrf, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return csrf{}, err
	}
	return csrf{key: key}, nil
}

// loginBinding binds the login form's token (there is no session yet).
const loginBinding = "\x00login"

// token is the token of forms shown to binding (a session ID, "" without
// login, or loginBinding).
func (c csrf) token(binding string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte("csrf\x00" + binding))
	return hex.EncodeToString(m.Sum(nil))
}

// check says whether a POST carries the token of binding. A request that
// carried the bearer token has no ambient credential and needs none.
func (c csrf) check(r *http.Request, a webguard.Access, binding string) bool {
	if r.Method != http.MethodPost {
		return false
	}
	if a.Bearer {
		return true
	}
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(c.token(binding)))
}

// noStore keeps answers holding personal data out of caches.
func noStore(w http.ResponseWriter) { w.Header().Set("Cache-Control", "no-store") }
