package simulator

import "fmt"

// The setters below change the server while it runs, for tests that
// break something mid-campaign and then mend it.

// SetStoreLimit replaces the identity server's per-sender store limit;
// every sender starts with a full burst again.
func (s *Server) SetStoreLimit(sl StoreLimit) error {
	if errs := sl.validate("StoreLimit"); len(errs) > 0 {
		return errs[0]
	}
	s.stores.set(sl)
	return nil
}

// SetNoThreePID makes the homeserver one without 3PID invites (conduit or
// tuwunel style), or, with ThreePIDSupported, one that serves them again.
func (s *Server) SetNoThreePID(style NoThreePIDStyle) error {
	if errs := style.validate("NoThreePID"); len(errs) > 0 {
		return errs[0]
	}
	s.no3PID.Store(style)
	return nil
}

// noThreePID is the current NoThreePID style.
func (s *Server) noThreePID() NoThreePIDStyle { return s.no3PID.Load().(NoThreePIDStyle) }

// SetTerms publishes new identity-server terms (nil: none). Users must
// accept any policy whose URL they have not accepted before; until then
// their tokens get 403 M_TERMS_NOT_SIGNED.
func (s *Server) SetTerms(terms []Policy) error {
	if errs := validatePolicies("Terms", terms); len(errs) > 0 {
		return errs[0]
	}
	s.ids.setTerms(terms)
	return nil
}

// Terms returns the identity server's current terms.
func (s *Server) Terms() []Policy { return s.ids.currentTerms() }

// AcceptTerms records that userID accepts every current policy, as a
// POST /_matrix/identity/v2/terms with all their URLs would (it is not
// counted in Stats.TermsAccepted).
func (s *Server) AcceptTerms(userID string) {
	var urls []string
	for _, p := range s.ids.currentTerms() {
		urls = append(urls, p.URL)
	}
	s.ids.accept(userID, urls)
}

// TermsSigned reports whether userID has accepted every current policy.
func (s *Server) TermsSigned(userID string) bool { return s.ids.signed(userID) }

// ForgetIDTokens makes the identity server forget every token userID
// registered (as if its database were lost), so that they answer 401
// M_UNAUTHORIZED and a client must register again; configured
// IDAccessTokens stay. It returns how many tokens were forgotten.
func (s *Server) ForgetIDTokens(userID string) int { return s.ids.forget(userID) }

// RevokeToken kills an access token, as a logout, an admin or an expiry
// would: every later request with it gets 401 M_UNKNOWN_TOKEN
// (soft_logout false) and is counted in Stats.RevokedTokenRequests. It
// reports whether tok was a live token.
func (s *Server) RevokeToken(tok string) bool { return s.accounts.revoke(tok) }

// AddToken gives the existing user userID a further access token (a new
// login, or the token a renewal hands out), with the same device and
// settings. It may bring a revoked token back to life.
func (s *Server) AddToken(tok, userID string) error { return s.accounts.addToken(tok, userID) }

// validateUser checks an account given to AddUser.
func validateUser(u User) error {
	if u.AccessToken == "" || !validID(u.UserID, '@') {
		return fmt.Errorf("simulator: AddUser: needs an AccessToken and a UserID like @local:server, got %q", u.UserID)
	}
	return nil
}
