package matrix

import (
	"context"
	"fmt"
	"sync"
)

// IdentityTokensConfig configures IdentityTokens.
type IdentityTokensConfig struct {
	// AcceptTerms makes Token accept every policy the identity server asks
	// for (POST /_matrix/identity/v2/terms) when it refuses the new token
	// with M_TERMS_NOT_SIGNED. Default false: Token returns a *TermsError
	// listing them, and nothing is accepted on the user's behalf.
	AcceptTerms bool
	// CallOptions apply to every call made (e.g. WithTimeout). Default:
	// none, so DefaultCallTimeout per call.
	CallOptions []CallOption
}

// IdentityTokens obtains identity-server tokens for one homeserver
// account the way Element does, for operators who have none to configure:
// whoami → openid/request_token → the identity server's account/register
// → GET account (a check of the new token), and when that answers
// M_TERMS_NOT_SIGNED, the terms (accepted only with AcceptTerms).
//
// Tokens live in this value's memory only. Each identity server gets one
// registration per IdentityTokens (one per process, when the process
// shares it), however many callers ask at once; Invalidate drops a token
// the identity server refused so that the next Token registers again. It
// is safe for concurrent use.
type IdentityTokens struct {
	hs  *Client
	cfg IdentityTokensConfig

	mu      sync.Mutex
	servers map[string]*idServerState
	stats   IdentityTokenStats
}

// IdentityTokenStats counts what IdentityTokens did, for tests and logs.
type IdentityTokenStats struct {
	// Registrations counts successful account/register calls.
	Registrations int
	// TermsAccepted counts successful POST /terms calls.
	TermsAccepted int
}

// idServerState is one identity server's token. Its fields are guarded by
// IdentityTokens.mu; sem lets one caller at a time obtain or check it.
type idServerState struct {
	sem      chan struct{}
	token    string // "" until registered; kept while terms are pending
	user     UserID // whom token belongs to, per whoami
	ready    bool   // token passed GET /account
	gen      uint64 // bumped by Invalidate, so a stale obtain does not store
	attempts uint64 // finished obtain attempts
	lastErr  error  // the last attempt's error, shared with its waiters
}

// NewIdentityTokens returns a provider that obtains tokens with hs's
// account; hs's IdentityScheme says how identity servers are reached.
func NewIdentityTokens(hs *Client, cfg IdentityTokensConfig) *IdentityTokens {
	return &IdentityTokens{hs: hs, cfg: cfg, servers: make(map[string]*idServerState)}
}

// Stats returns the counters so far.
func (p *IdentityTokens) Stats() IdentityTokenStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Token returns a checked token for idServer (hostname[:port]), obtaining
// one if needed. Callers arriving while another obtains it wait for that
// attempt and share its result, error included. Errors are a *TermsError
// (errors.Is ErrTermsNotSigned), an *IdentityTokenError (ErrIdentityToken)
// or the context's error; none holds a token.
func (p *IdentityTokens) Token(ctx context.Context, idServer string) (string, error) {
	p.mu.Lock()
	st := p.servers[idServer]
	if st == nil {
		st = &idServerState{sem: make(chan struct{}, 1)}
		p.servers[idServer] = st
	}
	if st.ready {
		token := st.token
		p.mu.Unlock()
		return token, nil
	}
	seen := st.attempts
	p.mu.Unlock()

	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return "", fmt.Errorf("identity token for %s: %w", idServer, context.Cause(ctx))
	}
	defer func() { <-st.sem }()

	p.mu.Lock()
	switch {
	case st.ready:
		token := st.token
		p.mu.Unlock()
		return token, nil
	case st.attempts != seen && st.lastErr != nil:
		err := st.lastErr // an attempt made while we waited failed: share it
		p.mu.Unlock()
		return "", err
	}
	p.mu.Unlock()

	token, err := p.obtain(ctx, idServer, st)
	p.mu.Lock()
	st.attempts++
	st.lastErr = err
	if ctx.Err() != nil {
		st.lastErr = nil // our own cancellation is not the waiters' answer
	}
	p.mu.Unlock()
	return token, err
}

// Invalidate drops token wherever it is cached, after an identity server
// answered 401 to it: the next Token registers again. Invalidating a token
// already replaced does nothing, so many callers may report the same 401.
func (p *IdentityTokens) Invalidate(token string) {
	if token == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, st := range p.servers {
		if st.token == token {
			st.token, st.user, st.ready = "", "", false
			st.gen++
		}
	}
}

// maxObtainRounds bounds obtain's loop: a cached token refused (register
// again), terms to accept, and the final check.
const maxObtainRounds = 3

// obtain registers (unless a terms-pending token is cached), checks the
// token with GET /account and handles M_TERMS_NOT_SIGNED. The caller holds
// st.sem.
func (p *IdentityTokens) obtain(ctx context.Context, idServer string, st *idServerState) (string, error) {
	ic := p.hs.Identity(idServer)
	fail := func(step string, o Outcome) error {
		return &IdentityTokenError{IDServer: idServer, Step: step, Outcome: o}
	}
	p.mu.Lock()
	token, user, gen := st.token, st.user, st.gen
	p.mu.Unlock()
	cached := token != ""
	for round := 0; round < maxObtainRounds; round++ {
		if token == "" {
			var err error
			if user, token, err = p.register(ctx, ic); err != nil {
				return "", err
			}
			cached = false
			p.store(st, gen, token, user, false)
		}
		owner, o := ic.Account(ctx, token, p.cfg.CallOptions...)
		switch {
		case o.Status.Good() && user != "" && owner != user:
			return "", &IdentityTokenError{IDServer: idServer, Step: "account", Outcome: o,
				Problem: fmt.Sprintf("the identity server says the new token belongs to %s, not %s", owner, user)}
		case o.Status.Good():
			p.store(st, gen, token, user, true)
			return token, nil
		case o.ErrCode == MTermsNotSigned:
			if err := p.handleTerms(ctx, ic, token); err != nil {
				return "", err
			}
		case o.Status.Code == Unauthorised && cached:
			// A terms-pending token kept from an earlier call was dropped
			// by the identity server meanwhile: register again.
			token, user = "", ""
		default:
			return "", fail("account", o)
		}
	}
	return "", &IdentityTokenError{IDServer: idServer, Step: "account",
		Problem: fmt.Sprintf("the token was still refused after %d rounds of registering and accepting terms", maxObtainRounds)}
}

// register makes the Element chain: whoami, an OpenID token, account/register.
func (p *IdentityTokens) register(ctx context.Context, ic *IdentityClient) (UserID, string, error) {
	fail := func(step string, o Outcome) error {
		return &IdentityTokenError{IDServer: ic.Server(), Step: step, Outcome: o}
	}
	user, o := p.hs.WhoAmI(ctx, p.cfg.CallOptions...)
	if !o.Status.Good() {
		return "", "", fail("whoami", o)
	}
	openID, o := p.hs.RequestOpenIDToken(ctx, user, p.cfg.CallOptions...)
	if !o.Status.Good() {
		return "", "", fail("openid/request_token", o)
	}
	token, o := ic.Register(ctx, openID, p.cfg.CallOptions...)
	if !o.Status.Good() {
		return "", "", fail("account/register", o)
	}
	p.mu.Lock()
	p.stats.Registrations++
	p.mu.Unlock()
	return user, token, nil
}

// handleTerms reads the terms and accepts them all, or reports them.
func (p *IdentityTokens) handleTerms(ctx context.Context, ic *IdentityClient, token string) error {
	terms, o := ic.Terms(ctx, p.cfg.CallOptions...)
	switch {
	case !o.Status.Good():
		return &IdentityTokenError{IDServer: ic.Server(), Step: "terms", Outcome: o}
	case len(terms.Documents) == 0:
		return &IdentityTokenError{IDServer: ic.Server(), Step: "terms", Outcome: o,
			Problem: "the identity server answers M_TERMS_NOT_SIGNED but lists no policy to accept"}
	case !p.cfg.AcceptTerms:
		return &TermsError{IDServer: ic.Server(), Documents: terms.Documents}
	}
	if o := ic.AcceptTerms(ctx, token, terms.URLs(), p.cfg.CallOptions...); !o.Status.Good() {
		return &IdentityTokenError{IDServer: ic.Server(), Step: "accept terms", Outcome: o}
	}
	p.mu.Lock()
	p.stats.TermsAccepted++
	p.mu.Unlock()
	return nil
}

// store records what obtain learnt, unless Invalidate ran meanwhile.
func (p *IdentityTokens) store(st *idServerState, gen uint64, token string, user UserID, ready bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st.gen == gen {
		st.token, st.user, st.ready = token, user, ready
	}
}
