package simulator

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// User is an account of the simulated homeserver.
type User struct {
	// AccessToken authenticates the user (Bearer header or ?access_token=).
	AccessToken string
	// UserID is the full Matrix ID, e.g. "@inviter:sim.local".
	UserID string
	// DeviceID is reported by whoami and keys the PUT transaction cache
	// together with the token. Default DefaultDeviceID.
	DeviceID string
	// RateLimitExempt skips the invite rate limit, like a Synapse user with
	// an admin override_ratelimit or an appservice sender.
	RateLimitExempt bool
}

// DefaultUser returns the default inviter: DefaultUserID with
// DefaultAccessToken on DefaultDeviceID.
func DefaultUser() User {
	return User{AccessToken: DefaultAccessToken, UserID: DefaultUserID, DeviceID: DefaultDeviceID}
}

// openIDTokenTTL is the lifetime Synapse gives OpenID tokens (one hour).
const openIDTokenTTL = time.Hour

// maxOpenIDTokens bounds the OpenID and minted identity tokens kept, so a
// looping client cannot grow the simulator without limit.
const maxOpenIDTokens = 10000

// accounts holds who may call what: homeserver users by access token,
// identity-server tokens, and OpenID tokens waiting to be exchanged.
type accounts struct {
	mu       sync.Mutex
	byToken  map[string]User
	idTokens map[string]bool
	openID   map[string]time.Time // OpenID token -> expiry
	minted   int                  // tokens minted so far, to make them unique
}

func newAccounts(users []User, idTokens []string) *accounts {
	a := &accounts{byToken: map[string]User{}, idTokens: map[string]bool{}, openID: map[string]time.Time{}}
	for _, u := range users {
		a.byToken[u.AccessToken] = u
	}
	for _, t := range idTokens {
		a.idTokens[t] = true
	}
	return a
}

func (a *accounts) addUser(u User) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byToken[u.AccessToken] = u
}

// requestToken returns the token of a request: the Authorization Bearer
// header, or the deprecated ?access_token= query parameter that Synapse
// still accepts (and sends to identity servers for hash_details).
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// user authenticates a homeserver request. On failure it writes Synapse's
// 401 and returns false.
func (a *accounts) user(w http.ResponseWriter, r *http.Request) (User, bool) {
	rep, u, ok := a.authenticate(r)
	if !ok {
		rep.write(w)
	}
	return u, ok
}

// authenticate is user without writing, for handlers that build replies.
func (a *accounts) authenticate(r *http.Request) (reply, User, bool) {
	tok := requestToken(r)
	if tok == "" {
		return errReply(http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token."), User{}, false
	}
	a.mu.Lock()
	u, ok := a.byToken[tok]
	a.mu.Unlock()
	if !ok {
		rep := errReply(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Invalid access token passed.")
		rep.extra["soft_logout"] = false
		return rep, User{}, false
	}
	return reply{}, u, true
}

// validIDToken reports whether tok is accepted by the identity server.
func (a *accounts) validIDToken(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return tok != "" && a.idTokens[tok]
}

// identity authenticates an identity-service request, writing
// 401 M_UNAUTHORIZED (what Sydent answers) on failure.
func (a *accounts) identity(w http.ResponseWriter, r *http.Request) bool {
	if a.validIDToken(requestToken(r)) {
		return true
	}
	writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Unauthorized")
	return false
}

// mintOpenID issues an OpenID token, as POST /user/{userId}/openid/request_token does.
func (a *accounts) mintOpenID(now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, exp := range a.openID {
		if now.After(exp) {
			delete(a.openID, t)
		}
	}
	if len(a.openID) >= maxOpenIDTokens {
		return "", false
	}
	a.minted++
	tok := fmt.Sprintf("sim-openid-%d", a.minted)
	a.openID[tok] = now.Add(openIDTokenTTL)
	return tok, true
}

// exchangeOpenID trades a valid OpenID token for a new identity-server
// token, as /_matrix/identity/v2/account/register does.
func (a *accounts) exchangeOpenID(openID string, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.openID[openID]
	if !ok || now.After(exp) || len(a.idTokens) >= maxOpenIDTokens {
		return "", false
	}
	delete(a.openID, openID)
	a.minted++
	tok := fmt.Sprintf("sim-id-token-%d", a.minted)
	a.idTokens[tok] = true
	return tok, true
}
