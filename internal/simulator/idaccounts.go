package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Why the identity server refused a call the homeserver made for an
// invite: the keys of Stats.IdentityRefusals. Synapse answers the client
// 500 M_UNKNOWN "Internal server error" for every one of them.
const (
	// RefusalUnknownToken: the id_access_token is not one of the identity
	// server's (never registered, or logged out).
	RefusalUnknownToken = "unknown_token"
	// RefusalTermsNotSigned: the token's user has not accepted the
	// current terms (Sydent's 403 M_TERMS_NOT_SIGNED).
	RefusalTermsNotSigned = "terms_not_signed"
	// RefusalWrongSender: the token was registered by another user than
	// the inviter (the store-invite's sender).
	RefusalWrongSender = "wrong_sender"
	// RefusalStoreLimited: the sender is over Config.StoreLimit (Sydent's
	// per-sender email limit). No email was sent.
	RefusalStoreLimited = "store_limited"
)

// idToken is an identity-server access token: the user it belongs to.
// Tokens from Config.IDAccessTokens stand for a hand-registered account
// of the first configured user, and are taken from any inviter, so that
// tests sharing DefaultIDAccessToken keep working.
type idToken struct {
	userID    string
	anySender bool
}

// idAccounts is the identity server's account store: its tokens, its
// current terms and, per user, the terms URLs accepted. Sydent keeps
// consent per user, not per token: a new registration of a user who
// accepted the terms needs no new consent.
type idAccounts struct {
	mu       sync.Mutex
	tokens   map[string]idToken
	terms    []Policy
	accepted map[string]map[string]bool // user ID -> accepted URLs
	minted   int
}

func newIDAccounts(static []string, staticUser string, terms []Policy) *idAccounts {
	ia := &idAccounts{tokens: map[string]idToken{}, accepted: map[string]map[string]bool{}}
	for _, t := range static {
		ia.tokens[t] = idToken{userID: staticUser, anySender: true}
	}
	ia.setTerms(terms)
	return ia
}

// setTerms publishes new terms. Consent given to URLs that are no longer
// published no longer counts; consent to URLs that stay does.
func (ia *idAccounts) setTerms(terms []Policy) {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	ia.terms = append([]Policy(nil), terms...)
}

// currentTerms returns a copy of the published terms.
func (ia *idAccounts) currentTerms() []Policy {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	return append([]Policy(nil), ia.terms...)
}

// register mints a fresh token for userID, as account/register does.
func (ia *idAccounts) register(userID string) (string, bool) {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	if len(ia.tokens) >= maxOpenIDTokens {
		return "", false
	}
	ia.minted++
	tok := fmt.Sprintf("sim-id-token-%d", ia.minted)
	ia.tokens[tok] = idToken{userID: userID}
	return tok, true
}

// logout forgets tok; it reports whether tok was known.
func (ia *idAccounts) logout(tok string) bool {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	_, ok := ia.tokens[tok]
	delete(ia.tokens, tok)
	return ok
}

// forget drops every registered token of userID (configured tokens
// stay) and returns how many there were.
func (ia *idAccounts) forget(userID string) int {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	n := 0
	for tok, t := range ia.tokens {
		if t.userID == userID && !t.anySender {
			delete(ia.tokens, tok)
			n++
		}
	}
	return n
}

// token returns the account of tok.
func (ia *idAccounts) token(tok string) (idToken, bool) {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	t, ok := ia.tokens[tok]
	return t, ok && tok != ""
}

// signed reports whether userID accepted every current policy.
func (ia *idAccounts) signed(userID string) bool {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	for _, p := range ia.terms {
		if !ia.accepted[userID][p.URL] {
			return false
		}
	}
	return true
}

// accept records that userID accepts urls. If one of them is not a
// current policy's URL nothing is recorded and the unknown ones are
// returned.
func (ia *idAccounts) accept(userID string, urls []string) (unknown []string) {
	ia.mu.Lock()
	defer ia.mu.Unlock()
	for _, u := range urls {
		if !slices.ContainsFunc(ia.terms, func(p Policy) bool { return p.URL == u }) {
			unknown = append(unknown, u)
		}
	}
	if len(unknown) > 0 {
		return unknown
	}
	if ia.accepted[userID] == nil {
		ia.accepted[userID] = map[string]bool{}
	}
	for _, u := range urls {
		ia.accepted[userID][u] = true
	}
	return nil
}

// refusal is why the identity server would refuse the homeserver's
// lookup and store-invite for an invite by sender with tok, or "".
func (ia *idAccounts) refusal(tok, sender string) string {
	t, ok := ia.token(tok)
	switch {
	case !ok:
		return RefusalUnknownToken
	case !ia.signed(t.userID):
		return RefusalTermsNotSigned
	case !t.anySender && t.userID != sender:
		return RefusalWrongSender
	}
	return ""
}

// authorize authenticates an identity-service request: 401 M_UNAUTHORIZED
// for a missing or unknown token, then, when terms is true, 403
// M_TERMS_NOT_SIGNED while the token's user has not accepted the current
// terms (what Sydent answers on every authenticated endpoint but /terms
// and /account/logout).
func (ia *idAccounts) authorize(w http.ResponseWriter, r *http.Request, terms bool) (idToken, bool) {
	t, ok := ia.token(requestToken(r))
	if !ok {
		writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Unauthorized")
		return idToken{}, false
	}
	if terms && !ia.signed(t.userID) {
		writeError(w, http.StatusForbidden, "M_TERMS_NOT_SIGNED", "Terms not signed")
		return idToken{}, false
	}
	return t, true
}

// handleRegister serves POST /_matrix/identity/v2/account/register. The
// body is the OpenID token the homeserver issued; like Sydent, the
// identity server checks it with the homeserver (here: directly) and
// mints a fresh token bound to its user for every registration.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	var body struct {
		AccessToken      string `json:"access_token"`
		MatrixServerName string `json:"matrix_server_name"`
	}
	if rep, ok := readJSON(w, r, s.cfg.MaxBodyBytes, &body); !ok {
		rep.write(w)
		return
	}
	if body.AccessToken == "" || body.MatrixServerName == "" {
		writeError(w, http.StatusBadRequest, "M_MISSING_PARAMS", "Missing parameters: access_token, matrix_server_name")
		return
	}
	userID, ok := "", body.MatrixServerName == s.cfg.ServerName
	if ok {
		userID, ok = s.accounts.openIDUser(body.AccessToken, time.Now())
	}
	if !ok {
		writeError(w, http.StatusUnauthorized, "M_UNAUTHORIZED", "Unable to validate the OpenID token")
		return
	}
	tok, ok := s.ids.register(userID)
	if !ok {
		writeError(w, http.StatusTooManyRequests, "M_LIMIT_EXCEEDED", "Too many identity tokens")
		return
	}
	s.rec.count(func(st *Stats) { st.Registrations[userID]++ })
	// Sydent answers both names; the spec's is "token".
	writeJSON(w, http.StatusOK, map[string]string{"token": tok, "access_token": tok})
}

// handleAccount serves GET /_matrix/identity/v2/account: whose token it is.
func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.ids.authorize(w, r, true); ok {
		writeJSON(w, http.StatusOK, map[string]string{"user_id": t.userID})
	}
}

// handleLogout serves POST /_matrix/identity/v2/account/logout: the token
// stops working (terms need not be signed for this).
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.ids.authorize(w, r, false); ok {
		s.ids.logout(requestToken(r))
		writeJSON(w, http.StatusOK, struct{}{})
	}
}
