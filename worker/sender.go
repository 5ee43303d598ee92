package worker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxinvite/mxinvite/internal/turns"
	"github.com/mxinvite/mxinvite/matrix"
)

// sender is a profile ready to send: its client (replaced when a new access
// token is read), and what the worker has learnt about it: its user ID, and
// whether the homeserver has declared its token dead.
type sender struct {
	Profile
	cur   atomic.Pointer[senderClient]
	slots *turns.Slots // its invites in flight here, with turns by priority (MaxConcurrency, else Concurrency)
	line  turns.Line   // its invites waiting for its gate here, in turn

	// check serialises token checks, so that the invites in flight when a
	// token dies cost one whoami between them, not one each.
	check sync.Mutex
}

// senderClient is one access token's client and what it learnt.
type senderClient struct {
	token  string
	client *matrix.Client
	// ids obtains identity tokens with this access token's account, when
	// none is configured (identity.go).
	ids *matrix.IdentityTokens
	// idMu guards obtained and failedAt.
	idMu     sync.Mutex
	obtained map[string]string    // identity server -> the token obtained (for scrubbing and re-checks)
	failedAt map[string]time.Time // identity server -> when obtaining a token last failed for good
	mu       sync.Mutex
	userID   matrix.UserID
	// deadAt is when whoami confirmed the homeserver refuses this token
	// (unix ns; 0: not known dead).
	deadAt atomic.Int64
}

// deadVerdictTTL is how long one whoami's "dead" verdict answers for the
// other invites whose 401s arrive with it; a later 401 (after an operator
// resumed the sender, say) asks again.
const deadVerdictTTL = 5 * time.Second

func newSender(p Profile, cfg Config) *sender {
	s := &sender{Profile: p, slots: turns.New(p.concurrency(cfg))}
	s.cur.Store(newSenderClient(p, cfg))
	return s
}

func newSenderClient(p Profile, cfg Config) *senderClient {
	c := p.client(cfg)
	return &senderClient{token: p.AccessToken, client: c,
		ids:      matrix.NewIdentityTokens(c, matrix.IdentityTokensConfig{AcceptTerms: cfg.AcceptIdentityTerms}),
		obtained: map[string]string{}, failedAt: map[string]time.Time{}}
}

// identityRetryAfter is how long a failure to obtain an identity token
// (an identity server without the v2 account API, or out of reach) is
// remembered, so that invites do not each try to register again.
const identityRetryAfter = time.Minute

// identityToken obtains (or returns the obtained) identity token for
// idServer.
func (sc *senderClient) identityToken(ctx context.Context, idServer string) (string, error) {
	sc.idMu.Lock()
	failed := sc.failedAt[idServer]
	sc.idMu.Unlock()
	if !failed.IsZero() && time.Since(failed) < identityRetryAfter {
		return "", errRecentIdentityFailure
	}
	tok, err := sc.ids.Token(ctx, idServer)
	sc.idMu.Lock()
	defer sc.idMu.Unlock()
	switch {
	case err == nil:
		sc.obtained[idServer] = tok
		delete(sc.failedAt, idServer)
	case errors.Is(err, matrix.ErrIdentityToken):
		sc.failedAt[idServer] = time.Now()
	}
	return tok, err
}

// errRecentIdentityFailure: obtaining an identity token failed less than
// identityRetryAfter ago.
var errRecentIdentityFailure = errors.New("obtaining an identity token failed recently")

// cachedIdentityToken is the token obtained for idServer, "" if none.
func (sc *senderClient) cachedIdentityToken(idServer string) string {
	sc.idMu.Lock()
	defer sc.idMu.Unlock()
	return sc.obtained[idServer]
}

// client is the current access token's client.
func (s *sender) client() *matrix.Client { return s.cur.Load().client }

// dead reports whether the current token was found dead.
func (s *sender) dead() bool { return s.cur.Load().deadAt.Load() != 0 }

// useToken switches to a new access token (read from the token file).
func (s *sender) useToken(token string, cfg Config) *senderClient {
	p := s.Profile
	p.AccessToken = token
	sc := newSenderClient(p, cfg)
	s.cur.Store(sc)
	return sc
}

// secrets lists the tokens to scrub from stored text: the profile's and
// the current one.
func (s *sender) secrets() []string {
	out := s.Profile.secrets()
	sc := s.cur.Load()
	if t := sc.token; t != "" && t != s.AccessToken {
		out = append(out, t)
	}
	sc.idMu.Lock()
	defer sc.idMu.Unlock()
	for _, t := range sc.obtained {
		out = append(out, t)
	}
	return out
}

// whoAmI returns the sender's user ID, asking the homeserver once per token;
// a failure is not cached, so a later call asks again.
func (s *sender) whoAmI(ctx context.Context) (matrix.UserID, matrix.Outcome) {
	sc := s.cur.Load()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.userID != "" {
		return sc.userID, matrix.Outcome{Status: matrix.Status{Code: matrix.Success}}
	}
	id, o := sc.client.WhoAmI(ctx)
	if o.Status.Good() {
		sc.userID = id
	}
	return id, o
}

// tokenDead re-checks, after an invite was answered 401 M_UNKNOWN_TOKEN or
// M_MISSING_TOKEN, whether the token itself is dead (whoami refused too)
// or the 401 belonged to that one request. Concurrent callers share one
// whoami: the first to learn the token is dead marks it, and the others
// see the mark without asking again.
func (s *sender) tokenDead(ctx context.Context) (bool, matrix.Outcome) {
	s.check.Lock()
	defer s.check.Unlock()
	sc := s.cur.Load()
	if at := sc.deadAt.Load(); at != 0 && time.Since(time.Unix(0, at)) < deadVerdictTTL {
		return true, matrix.Outcome{}
	}
	_, o := sc.client.WhoAmI(ctx)
	if refusedToken(o) {
		sc.deadAt.Store(time.Now().UnixNano())
		return true, o
	}
	sc.deadAt.Store(0)
	return false, o
}

// refusedToken reports whether whoami's answer says the access token is
// not (or no longer) valid: an HTTP 401, whatever its errcode.
func refusedToken(o matrix.Outcome) bool {
	return o.Status.Code == matrix.Unauthorised && o.Requests > 0
}

// tokenRefusal reports whether an invite's answer may mean a dead token,
// which tokenDead then confirms or not.
func tokenRefusal(o matrix.Outcome) bool {
	return o.Status.Code == matrix.Unauthorised && (o.ErrCode == matrix.MUnknownToken || o.ErrCode == matrix.MMissingToken)
}

// idToken is the identity access token configured for idServer: a
// profile's token only goes to the identity server it was registered
// with, never to another one a task names. "" when none is configured (the
// worker then obtains one from the account: see identity.go).
func (s *sender) idToken(idServer string) string {
	if idServer == s.IDServer {
		return s.IDAccessToken
	}
	return s.IDServerTokens[idServer]
}
