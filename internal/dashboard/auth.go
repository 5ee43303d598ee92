package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sessionCookie holds a login: "<expiry unix s>.<MAC of it>", keyed by a
// hash of the token. It never holds the token, and every process that has
// the same token (dashboard, worker --dashboard) accepts it.
const sessionCookie = "mxinvite_dashboard"

// guard decides who may see pages and who may act.
type guard struct {
	token      []byte // "" when no login is required
	sessionKey []byte // MAC key of session cookies
	csrfKey    []byte // MAC key of CSRF tokens
	ttl        time.Duration
	now        func() time.Time
	cop        *http.CrossOriginProtection
}

func newGuard(o Options) (*guard, error) {
	g := &guard{token: []byte(o.Token), ttl: o.SessionTTL, now: o.Now, cop: http.NewCrossOriginProtection()}
	if o.Token != "" {
		g.sessionKey = derive(o.Token, "session")
		g.csrfKey = derive(o.Token, "csrf")
	} else {
		// No login: the CSRF tokens of this process's pages only.
		g.csrfKey = make([]byte, 32)
		if _, err := rand.Read(g.csrfKey); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func derive(token, purpose string) []byte {
	sum := sha256.Sum256([]byte("mxinvite dashboard " + purpose + "\x00" + token))
	return sum[:]
}

func mac(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// access is who a request is, kept in its context.
type access struct {
	// bearer is set for a request that carried the token itself: not a
	// browser's ambient credential, so it needs no CSRF token.
	bearer bool
	// binding ties CSRF tokens to the session ("" without login).
	binding string
}

type accessKey struct{}

func accessOf(ctx context.Context) access {
	a, _ := ctx.Value(accessKey{}).(access)
	return a
}

// authenticate returns the request's access, or false when a token is
// required and the request has no valid one.
func (g *guard) authenticate(r *http.Request) (access, bool) {
	if len(g.token) == 0 {
		return access{}, true
	}
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(h)), g.token) == 1 {
			return access{bearer: true}, true
		}
		return access{}, false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || !g.validSession(c.Value) {
		return access{}, false
	}
	return access{binding: c.Value}, true
}

func (g *guard) newSession() (value string, expires time.Time) {
	expires = g.now().Add(g.ttl)
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + mac(g.sessionKey, exp), expires
}

func (g *guard) validSession(v string) bool {
	exp, sum, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || g.now().Unix() >= n {
		return false
	}
	return hmac.Equal([]byte(sum), []byte(mac(g.sessionKey, exp)))
}

// csrfToken is the token forms of this access carry.
func (g *guard) csrfToken(a access) string { return mac(g.csrfKey, "csrf\x00"+a.binding) }

// checkPost refuses a POST from another site (Sec-Fetch-Site or Origin, by
// net/http.CrossOriginProtection) or without this session's CSRF token.
// A bearer request carries no ambient credential and skips the token.
func (g *guard) checkPost(r *http.Request, a access) bool {
	if r.Method != http.MethodPost || g.cop.Check(r) != nil {
		return false
	}
	if a.bearer {
		return true
	}
	return hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(g.csrfToken(a)))
}

// checkToken compares a token typed in the login form.
func (g *guard) checkToken(t string) bool {
	return len(g.token) > 0 && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(t)), g.token) == 1
}

func (g *guard) setSession(w http.ResponseWriter, r *http.Request) {
	v, exp := g.newSession()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: v, Path: "/", Expires: exp,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}

func clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}
