package worker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// sender is a profile ready to send: its client (replaced when a new access
// token is read), and what the worker has learnt about it: its user ID, and
// whether the homeserver has declared its token dead.
type sender struct {
	Profile
	cur   atomic.Pointer[senderClient]
	slots *senderSlots // nil: no cap of its own

	// check serialises token checks, so that the invites in flight when a
	// token dies cost one whoami between them, not one each.
	check sync.Mutex
}

// senderClient is one access token's client and what it learnt.
type senderClient struct {
	token  string
	client *matrix.Client
	mu     sync.Mutex
	userID matrix.UserID
	// deadAt is when whoami confirmed the homeserver refuses this token
	// (unix ns; 0: not known dead).
	deadAt atomic.Int64
}

// deadVerdictTTL is how long one whoami's "dead" verdict answers for the
// other invites whose 401s arrive with it; a later 401 (after an operator
// resumed the sender, say) asks again.
const deadVerdictTTL = 5 * time.Second

func newSender(p Profile, cfg Config) *sender {
	s := &sender{Profile: p, slots: newSenderSlots(p.MaxConcurrency)}
	s.cur.Store(&senderClient{token: p.AccessToken, client: p.client(cfg)})
	return s
}

// client is the current access token's client.
func (s *sender) client() *matrix.Client { return s.cur.Load().client }

// dead reports whether the current token was found dead.
func (s *sender) dead() bool { return s.cur.Load().deadAt.Load() != 0 }

// useToken switches to a new access token (read from the token file).
func (s *sender) useToken(token string, cfg Config) *senderClient {
	p := s.Profile
	p.AccessToken = token
	sc := &senderClient{token: token, client: p.client(cfg)}
	s.cur.Store(sc)
	return sc
}

// secrets lists the tokens to scrub from stored text: the profile's and
// the current one.
func (s *sender) secrets() []string {
	out := s.Profile.secrets()
	if t := s.cur.Load().token; t != "" && t != s.AccessToken {
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
