package simulator

import "time"

// The scopes of a 429: which limit gave it, and so which key a client
// must keep away for. They key Stats.RateLimitedByScope and
// Stats.EarlyByScope.
const (
	// ScopeThirdPartyInvite is Synapse's rc_third_party_invite
	// (Config.RateLimit), keyed by the sender, charged to 3PID invites.
	ScopeThirdPartyInvite = "third_party_invite"
	// ScopePerRoom is rc_invites.per_room, keyed by the room.
	ScopePerRoom = "per_room"
	// ScopePerUser is rc_invites.per_user, keyed by the invitee account.
	ScopePerUser = "per_user"
	// ScopePerIssuer is rc_invites.per_issuer, keyed by the sender.
	ScopePerIssuer = "per_issuer"
	// ScopeRule is a scripted Rule's 429, keyed by the address (or user
	// ID) it matched.
	ScopeRule = "rule"
)

// Synapse's defaults for rc_invites (synapse/config/ratelimiting.py):
// per room 0.3/s burst 10, per invitee 0.003/s burst 5, per issuer 0.3/s
// burst 10.
const (
	SynapseInvitesPerRoomPerSecond   = 0.3
	SynapseInvitesPerRoomBurst       = 10
	SynapseInvitesPerUserPerSecond   = 0.003
	SynapseInvitesPerUserBurst       = 5
	SynapseInvitesPerIssuerPerSecond = 0.3
	SynapseInvitesPerIssuerBurst     = 10
)

// InviteLimits are Synapse's rc_invites: three token buckets charged, in
// this order, to every invite that targets an account (an invite by
// Matrix ID, or a 3PID invite of a bound address), each request taking a
// token from every bucket it passes (a 429 from PerUser has used a
// PerRoom token). A User with RateLimitExempt, or whose admin
// override_ratelimit lifts limits, skips them. Each scope's 429 is its
// RateLimit's Style, after its Pause. Default: all off.
type InviteLimits struct {
	// PerRoom is keyed by the room (rc_invites.per_room).
	PerRoom RateLimit `json:"per_room"`
	// PerUser is keyed by the invitee account (rc_invites.per_user): a
	// popular invitee is limited while the sender's other invites pass.
	PerUser RateLimit `json:"per_user"`
	// PerIssuer is keyed by the sender (rc_invites.per_issuer).
	PerIssuer RateLimit `json:"per_issuer"`
}

// SynapseDefaultInviteLimits returns Synapse's rc_invites defaults sped up
// scale times (scale 1 is the real one), in StyleSynapse with Synapse's
// 0.5 s pause divided by scale. A scale <= 0 turns the limits off.
func SynapseDefaultInviteLimits(scale float64) InviteLimits {
	if !(scale > 0) {
		return InviteLimits{}
	}
	pause := time.Duration(float64(SynapseRateLimitPause) / scale)
	limit := func(perSecond float64, burst int) RateLimit {
		return RateLimit{PerSecond: perSecond * scale, Burst: burst, Style: StyleSynapse, Pause: pause}
	}
	return InviteLimits{
		PerRoom:   limit(SynapseInvitesPerRoomPerSecond, SynapseInvitesPerRoomBurst),
		PerUser:   limit(SynapseInvitesPerUserPerSecond, SynapseInvitesPerUserBurst),
		PerIssuer: limit(SynapseInvitesPerIssuerPerSecond, SynapseInvitesPerIssuerBurst),
	}
}

func (il InviteLimits) withDefaults() InviteLimits {
	il.PerRoom = il.PerRoom.withDefaults()
	il.PerUser = il.PerUser.withDefaults()
	il.PerIssuer = il.PerIssuer.withDefaults()
	return il
}

func (il InviteLimits) validate(field string) []error {
	var errs []error
	errs = append(errs, il.PerRoom.validate(field+".PerRoom")...)
	errs = append(errs, il.PerUser.validate(field+".PerUser")...)
	errs = append(errs, il.PerIssuer.validate(field+".PerIssuer")...)
	return errs
}

// inviteLimiters are the three rc_invites buckets.
type inviteLimiters struct {
	room, user, issuer *limiter
}

func newInviteLimiters(il InviteLimits) inviteLimiters {
	return inviteLimiters{room: newLimiter(il.PerRoom), user: newLimiter(il.PerUser), issuer: newLimiter(il.PerIssuer)}
}

// set replaces the limits; every bucket starts full again.
func (il inviteLimiters) set(cfg InviteLimits) {
	il.room.set(cfg.PerRoom)
	il.user.set(cfg.PerUser)
	il.issuer.set(cfg.PerIssuer)
}

// reset forgets buckets and advice.
func (il inviteLimiters) reset() {
	il.room.reset()
	il.user.reset()
	il.issuer.reset()
}

// scopedKey is one rc_invites bucket a request is charged to.
type scopedKey struct {
	scope string
	lim   *limiter
	key   string
}

// keys lists the buckets of an invite of invitee into roomID by sender,
// in Synapse's order (ratelimit_invite).
func (il inviteLimiters) keys(roomID, invitee, sender string) []scopedKey {
	return []scopedKey{
		{ScopePerRoom, il.room, roomID},
		{ScopePerUser, il.user, invitee},
		{ScopePerIssuer, il.issuer, sender},
	}
}

// chargeInviteLimits takes a token from each rc_invites bucket of an
// invite of invitee into roomID by u, in order, and answers the first
// 429, marked with its scope.
func (s *Server) chargeInviteLimits(u User, roomID, invitee string) (reply, bool) {
	if s.limitsLifted(u) {
		return reply{}, true
	}
	now := time.Now()
	for _, k := range s.inviteLimits.keys(roomID, invitee, u.UserID) {
		if rep, ok := k.lim.check(k.key, now); !ok {
			rep.scope = k.scope
			return rep, false
		}
	}
	return reply{}, true
}

// limitsLifted reports whether u skips Synapse's invite limits: an
// exempt user (appservice style) or one whose admin override_ratelimit
// lifts them.
func (s *Server) limitsLifted(u User) bool {
	return u.RateLimitExempt || s.overrides.inviteLimitLifted(u.UserID)
}

// SetInviteLimits replaces rc_invites; every bucket starts full again
// (advice already given still counts for early requests).
func (s *Server) SetInviteLimits(il InviteLimits) error {
	if errs := il.withDefaults().validate("InviteLimits"); len(errs) > 0 {
		return errs[0]
	}
	s.inviteLimits.set(il)
	return nil
}
