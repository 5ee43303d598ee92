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
	// Admin makes the user a server admin, who may use Synapse's admin
	// API (override_ratelimit) and whose invites pass invite filters
	// (BlocksInvites). Default false.
	Admin bool
	// BlocksInvites makes the user refuse every invite (MSC4155's invite
	// filter): 403 with Config.InviteBlockedCode. Default false.
	BlocksInvites bool
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

// openIDGrant is an OpenID token: whose it is and until when it is good.
type openIDGrant struct {
	userID  string
	expires time.Time
}

// accounts holds the homeserver's users by access token, the tokens that
// were revoked, and the OpenID tokens it issued.
type accounts struct {
	mu      sync.Mutex
	rec     *recorder
	byToken map[string]User
	revoked map[string]User // revoked token -> the user it belonged to
	openID  map[string]openIDGrant
	minted  int // OpenID tokens minted so far, to make them unique
}

func newAccounts(users []User, rec *recorder) *accounts {
	a := &accounts{rec: rec, byToken: map[string]User{}, revoked: map[string]User{}, openID: map[string]openIDGrant{}}
	for _, u := range users {
		a.byToken[u.AccessToken] = u
	}
	return a
}

func (a *accounts) addUser(u User) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.revoked, u.AccessToken)
	a.byToken[u.AccessToken] = u
}

// findUser returns an account with userID, live or revoked (so a new
// token can be issued to a user whose only token died).
func (a *accounts) findUser(userID string) (User, bool) {
	for _, m := range []map[string]User{a.byToken, a.revoked} {
		for _, tok := range sortedKeys(m) {
			if m[tok].UserID == userID {
				return m[tok], true
			}
		}
	}
	return User{}, false
}

// userExists reports whether userID has an account (live or revoked token).
func (a *accounts) userExists(userID string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.findUser(userID)
	return ok
}

// addToken gives userID a further access token, with the same device and
// settings as the user's existing one.
func (a *accounts) addToken(tok, userID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.findUser(userID)
	switch {
	case tok == "":
		return fmt.Errorf("simulator: AddToken: empty token")
	case !ok:
		return fmt.Errorf("simulator: AddToken: no user %q", userID)
	}
	if other, taken := a.byToken[tok]; taken && other.UserID != userID {
		return fmt.Errorf("simulator: AddToken: the token belongs to another user")
	}
	u.AccessToken = tok
	delete(a.revoked, tok)
	a.byToken[tok] = u
	return nil
}

// revoke kills tok: later requests with it get 401 M_UNKNOWN_TOKEN and
// are counted. It reports whether tok was a live token.
func (a *accounts) revoke(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.byToken[tok]
	if ok {
		delete(a.byToken, tok)
		a.revoked[tok] = u
	}
	return ok
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
// A revoked token gets the same 401 as an unknown one, and is counted.
func (a *accounts) authenticate(r *http.Request) (reply, User, bool) {
	tok := requestToken(r)
	if tok == "" {
		return errReply(http.StatusUnauthorized, "M_MISSING_TOKEN", "Missing access token."), User{}, false
	}
	a.mu.Lock()
	u, ok := a.byToken[tok]
	_, revoked := a.revoked[tok]
	a.mu.Unlock()
	if !ok {
		if revoked {
			a.rec.count(func(st *Stats) { st.RevokedTokenRequests[tok]++ })
		}
		rep := errReply(http.StatusUnauthorized, "M_UNKNOWN_TOKEN", "Invalid access token passed.")
		rep.extra["soft_logout"] = false
		return rep, User{}, false
	}
	return reply{}, u, true
}

// mintOpenID issues an OpenID token for userID, as
// POST /user/{userId}/openid/request_token does.
func (a *accounts) mintOpenID(userID string, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for t, g := range a.openID {
		if now.After(g.expires) {
			delete(a.openID, t)
		}
	}
	if len(a.openID) >= maxOpenIDTokens {
		return "", false
	}
	a.minted++
	tok := fmt.Sprintf("sim-openid-%d", a.minted)
	a.openID[tok] = openIDGrant{userID: userID, expires: now.Add(openIDTokenTTL)}
	return tok, true
}

// openIDUser returns whose OpenID token tok is, as the federation
// endpoint /_matrix/federation/v1/openid/userinfo tells an identity
// server. Like Synapse's, a token stays good until it expires, however
// often it is checked.
func (a *accounts) openIDUser(tok string, now time.Time) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g, ok := a.openID[tok]
	if !ok || now.After(g.expires) {
		return "", false
	}
	return g.userID, true
}
