package simulator

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running simulator. All its methods are safe for concurrent
// use, including the setters, which take effect on the next request.
type Server struct {
	cfg      Config // as given to New, defaults applied; never changed
	accounts *accounts
	ids      *idAccounts
	rooms    *roomStore
	limiter  *limiter
	// inviteLimits are rc_invites' three scopes.
	inviteLimits inviteLimiters
	bindings     *bindingStore
	blocks       *inviteBlocks
	refused      refusedAddresses
	lookupOff    atomic.Bool // Synapse's enable_3pid_lookup: false
	stores       *storeLimiter
	overrides    rateOverrides
	no3PID       atomic.Value // NoThreePIDStyle
	faults       *faultInjector
	rules        *rulebook
	txns         *txnCache
	rec          *recorder
	down         atomic.Bool
	minted       atomic.Int64 // store-invite tokens issued, to make them unique
	handler      http.Handler

	closing   chan struct{} // closed by Close: releases hanging requests
	closeOnce sync.Once
}

// New returns a simulator for cfg (defaults applied), or the errors of
// [Config.Validate].
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	rec := newRecorder()
	s := &Server{
		cfg:          cfg,
		accounts:     newAccounts(cfg.Users, rec),
		ids:          newIDAccounts(cfg.IDAccessTokens, cfg.Users[0].UserID, cfg.Terms),
		rooms:        newRoomStore(),
		limiter:      newLimiter(cfg.RateLimit),
		inviteLimits: newInviteLimiters(cfg.InviteLimits),
		bindings:     newBindingStore(cfg.LookupPepper, cfg.Bindings),
		blocks:       newInviteBlocks(cfg),
		stores:       newStoreLimiter(cfg.StoreLimit),
		faults:       newFaultInjector(cfg.Faults, cfg.Seed),
		rules:        newRulebook(cfg.Rules),
		txns:         newTxnCache(cfg.TxnTTL),
		rec:          rec,
		closing:      make(chan struct{}),
	}
	s.no3PID.Store(cfg.NoThreePID)
	s.refused.set(cfg.RefusedAddresses)
	s.lookupOff.Store(cfg.ThreePIDLookupDisabled)
	for _, r := range cfg.Rooms {
		if err := s.rooms.put(r); err != nil {
			return nil, err
		}
	}
	s.handler = s.routes()
	for _, lb := range cfg.LaterBinds {
		s.scheduleBind(lb)
	}
	return s, nil
}

// Handler returns the handler serving the homeserver, the identity server
// and the /_sim/ control paths.
func (s *Server) Handler() http.Handler { return s.handler }

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats { return s.rec.snapshot() }

// Accepted returns the invites accepted so far, oldest first.
func (s *Server) Accepted() []Invite { return s.rec.acceptedLog() }

// Requests returns the number of requests per endpoint name (the same map
// as Stats().Requests).
func (s *Server) Requests() map[string]int64 { return s.rec.snapshot().Requests }

// Reset clears counters, the accepted log, rate-limit buckets and advice
// (every scope), rule uses and advice, and the transaction cache, for a
// fresh benchmark run. Settings (rooms and their memberships, users and
// tokens, revoked ones included, identity tokens, terms and consent,
// bindings and pending 3PID invites, invite blocks, refused addresses,
// rules, limits, overrides, faults, outage) are kept.
func (s *Server) Reset() {
	s.rec.reset()
	s.limiter.reset()
	s.inviteLimits.reset()
	s.stores.reset()
	s.rules.reset()
	s.txns.reset()
}

// SetDown starts (true) or ends (false) an outage: while down, every
// /_matrix/ and /_synapse/ request is answered as Config.DownMode says. /_sim/ still works.
func (s *Server) SetDown(down bool) { s.down.Store(down) }

// SetRateLimit replaces the invite rate limit; buckets start full again.
func (s *Server) SetRateLimit(rl RateLimit) error {
	if errs := rl.withDefaults().validate("RateLimit"); len(errs) > 0 {
		return errs[0]
	}
	s.limiter.set(rl)
	return nil
}

// SetFaults replaces the injected latency and faults.
func (s *Server) SetFaults(f Faults) error {
	if errs := f.withDefaults().validate("Faults"); len(errs) > 0 {
		return errs[0]
	}
	s.faults.set(f)
	return nil
}

// SetRules replaces the scripted rules and restarts their Times counts
// (advice their 429s gave is kept, for early requests).
func (s *Server) SetRules(rules []Rule) error {
	for i, r := range rules {
		if errs := r.validate(fmt.Sprintf("Rules[%d]", i)); len(errs) > 0 {
			return errs[0]
		}
	}
	s.rules.set(rules)
	return nil
}

// AddRoom adds a room, or replaces the room with the same ID (to change
// memberships or power levels during a test).
func (s *Server) AddRoom(r Room) error { return s.rooms.put(r) }

// AddUser adds a user, or replaces the user with the same access token
// (which it revives if it was revoked).
func (s *Server) AddUser(u User) error {
	if u.DeviceID == "" {
		u.DeviceID = DefaultDeviceID
	}
	if err := validateUser(u); err != nil {
		return err
	}
	s.accounts.addUser(u)
	return nil
}

// Close releases requests that are hanging on purpose (timeout faults) by
// dropping their connections, so that an http.Server or httptest.Server
// can shut down promptly; later timeout faults drop the connection at
// once. The handler keeps serving other requests.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// arrivalKey keys the arrival time of a request in its context.
type arrivalKey struct{}

// arrival returns when the request reached the simulator, before any
// injected latency: what "early" is measured against.
func arrival(r *http.Request) time.Time {
	if t, ok := r.Context().Value(arrivalKey{}).(time.Time); ok {
		return t
	}
	return time.Now()
}

// middleware applies the outage switch and latency to /_matrix/ and
// /_synapse/ paths.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_matrix/") && !strings.HasPrefix(r.URL.Path, "/_synapse/") {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), arrivalKey{}, time.Now()))
		if s.down.Load() {
			s.rec.count(func(st *Stats) { st.Outages++ })
			if s.cfg.DownMode == DownClose {
				// Makes net/http drop the connection without answering.
				panic(http.ErrAbortHandler)
			}
			writeError(w, http.StatusServiceUnavailable, "M_UNKNOWN", "Simulated outage")
			return
		}
		if !sleep(r.Context(), s.faults.delay()) {
			return // the client went away during the latency
		}
		next.ServeHTTP(w, r)
	})
}
