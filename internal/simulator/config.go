package simulator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Defaults used when the matching Config field is left at its zero value.
// Tests and the demo use them to talk to a default simulator.
const (
	DefaultServerName    = "sim.local"
	DefaultAccessToken   = "sim-access-token"
	DefaultUserID        = "@inviter:sim.local"
	DefaultDeviceID      = "SIMDEVICE"
	DefaultIDAccessToken = "sim-id-token"
	DefaultRoomID        = "!room:sim.local"
	DefaultRoomAlias     = "#demo:sim.local"
	DefaultLookupPepper  = "sim-pepper"
	DefaultTxnTTL        = 30 * time.Minute // Synapse keeps transaction responses about 30 minutes
	DefaultMaxBodyBytes  = 64 << 10
	// DefaultInviteLevel is the "invite" power level Synapse puts in rooms
	// it creates (the spec's own default is 0).
	DefaultInviteLevel = 50
)

// DownMode says how the simulator answers while it is down (see
// [Server.SetDown]).
type DownMode string

// The outage styles.
const (
	// DownUnavailable answers 503 M_UNKNOWN, like a reverse proxy whose
	// upstream is gone.
	DownUnavailable DownMode = "503"
	// DownClose drops the connection without an answer, like a crashed
	// server: the client sees a network error.
	DownClose DownMode = "close"
)

// Config configures a simulator. Every zero value means "use the default"
// written on the field; [Config.WithDefaults] fills them in.
type Config struct {
	// ServerName is the homeserver's name, reported in room directory
	// answers and OpenID tokens. Default DefaultServerName.
	ServerName string

	// Users are the accounts, by access token. Default: [DefaultUser].
	Users []User

	// IDAccessTokens are the identity-server tokens accepted as
	// id_access_token and as Bearer tokens on /_matrix/identity/v2.
	// Default: [DefaultIDAccessToken]. They stand for a hand-registered
	// account of the first of Users (GET /account names that user, whose
	// consent to Terms they need) and are taken from any inviter. Tokens
	// minted by /_matrix/identity/v2/account/register are accepted too,
	// only from the user who registered them.
	IDAccessTokens []string

	// Terms are the identity server's terms of service, listed by
	// GET /_matrix/identity/v2/terms. While a user has not accepted every
	// one (POST /terms), every authenticated identity endpoint but /terms
	// and /account/logout answers 403 M_TERMS_NOT_SIGNED for that user's
	// tokens, and invites with them get Synapse's 500. Default none
	// (nothing to accept), or [DefaultPolicy] when RequireTerms is set.
	// [Server.SetTerms] publishes new ones.
	Terms []Policy

	// RequireTerms publishes [DefaultPolicy] when Terms is empty.
	// Default false.
	RequireTerms bool

	// StoreLimit is the identity server's per-sender limit on
	// store-invites (Sydent's email limit, [SydentStoreLimit]); invites
	// over it get Synapse's 500 and send no email. Default off.
	StoreLimit StoreLimit

	// NoThreePID makes the homeserver one without 3PID invites, answering
	// every invite as that server does. Default ThreePIDSupported.
	NoThreePID NoThreePIDStyle

	// TrustedIDServers, when not empty, lists the only id_server values an
	// invite may name; others get 400 M_SERVER_NOT_TRUSTED, as on Dendrite.
	// Default empty: any id_server is accepted (Synapse), the identity
	// server is always this simulator.
	TrustedIDServers []string

	// Rooms are the rooms that exist. Default (nil): [DefaultRoom]. A
	// non-nil empty slice means no rooms at all.
	Rooms []Room

	// LookupPepper is the pepper of /_matrix/identity/v2/hash_details.
	// Default DefaultLookupPepper.
	LookupPepper string

	// DisableTxnPUT makes PUT /rooms/{roomId}/invite/{txnId} answer
	// 404 M_UNRECOGNIZED, as every server but Synapse does. Default false.
	DisableTxnPUT bool

	// TxnTTL is how long a successful PUT answer is replayed for the same
	// (access token, room, txnId). Default DefaultTxnTTL.
	TxnTTL time.Duration

	// CheckRoomFirst checks the room, membership and power level BEFORE
	// calling the identity server, so a doomed invite sends no email.
	// Default false: Synapse's order (email first, 403 afterwards).
	CheckRoomFirst bool

	// RateLimit is the per-sender limit on 3PID invites (Synapse's
	// rc_third_party_invite, scope "third_party_invite"). Default off.
	RateLimit RateLimit

	// InviteLimits are Synapse's rc_invites, charged to invites of
	// accounts (by Matrix ID, or 3PID invites of bound addresses), in
	// three scopes. Default off; [SynapseDefaultInviteLimits] gives
	// Synapse's defaults.
	InviteLimits InviteLimits

	// Bindings are the addresses the identity server knows as bound to
	// accounts. Default none. [Server.Bind] binds more while serving.
	Bindings []Binding

	// LaterBinds are binds (and joins) that happen while serving, each
	// LaterBind.After the start: people who register after the invite.
	// Default none.
	LaterBinds []LaterBind

	// InviteBlockedCode is the errcode of an invite refused because the
	// invitee blocks invites (Binding.BlocksInvites, User.BlocksInvites):
	// InviteBlockedStable or InviteBlockedUnstable. Default
	// InviteBlockedStable.
	InviteBlockedCode string

	// RefusedAddresses are glob patterns (as Rule.Pattern) of addresses
	// the identity server refuses to store invites for, as Sydent's
	// blocklists and keyword checks do: store-invite answers 403
	// M_UNAUTHORIZED, which Synapse turns into 500 M_UNKNOWN; no email.
	// Default none.
	RefusedAddresses []string

	// ThreePIDLookupDisabled is Synapse's enable_3pid_lookup: false:
	// every 3PID invite gets 403 M_UNKNOWN, after the rate limit and the
	// rules, before any lookup. Default false.
	ThreePIDLookupDisabled bool

	// Faults are the injected latency and failures. Default none.
	Faults Faults

	// IdentityLatency is how long the identity server takes to store an
	// invite: the homeserver's answer to a 3PID invite comes that much
	// later, and the invite is stored (and emailed) at the end of it, so a
	// client that dies meanwhile has a request the server acts on without
	// the client knowing. Default 0.
	IdentityLatency time.Duration

	// Rules are scripted answers per invitee address. Default none.
	Rules []Rule

	// DownMode is how an outage looks. Default DownUnavailable.
	DownMode DownMode

	// Seed seeds the random source behind jitter and fault rolls, so a
	// run with the same seed and the same request order is reproducible.
	// Default 0 (which is a seed like any other).
	Seed int64

	// MaxBodyBytes caps the request bodies read; larger ones get
	// 413 M_TOO_LARGE. Default DefaultMaxBodyBytes (64 KiB).
	MaxBodyBytes int64
}

// WithDefaults returns a copy of c with every zero field set to its
// default. Slices given by the caller are copied, so later changes to
// them do not reach a running server.
func (c Config) WithDefaults() Config {
	if c.ServerName == "" {
		c.ServerName = DefaultServerName
	}
	if len(c.Users) == 0 {
		c.Users = []User{DefaultUser()}
	} else {
		c.Users = append([]User(nil), c.Users...)
	}
	for i := range c.Users {
		if c.Users[i].DeviceID == "" {
			c.Users[i].DeviceID = DefaultDeviceID
		}
	}
	if len(c.IDAccessTokens) == 0 {
		c.IDAccessTokens = []string{DefaultIDAccessToken}
	} else {
		c.IDAccessTokens = append([]string(nil), c.IDAccessTokens...)
	}
	c.TrustedIDServers = append([]string(nil), c.TrustedIDServers...)
	if len(c.Terms) == 0 && c.RequireTerms {
		c.Terms = []Policy{DefaultPolicy()}
	} else {
		c.Terms = append([]Policy(nil), c.Terms...)
	}
	if c.Rooms == nil {
		c.Rooms = []Room{DefaultRoom()}
	} else {
		rooms := make([]Room, len(c.Rooms))
		for i, r := range c.Rooms {
			rooms[i] = r.clone()
		}
		c.Rooms = rooms
	}
	if c.LookupPepper == "" {
		c.LookupPepper = DefaultLookupPepper
	}
	if c.TxnTTL == 0 {
		c.TxnTTL = DefaultTxnTTL
	}
	c.RateLimit = c.RateLimit.withDefaults()
	c.InviteLimits = c.InviteLimits.withDefaults()
	bindings := make([]Binding, len(c.Bindings))
	for i, b := range c.Bindings {
		bindings[i] = b.withDefaults()
	}
	c.Bindings = bindings
	c.LaterBinds = slices.Clone(c.LaterBinds)
	if c.InviteBlockedCode == "" {
		c.InviteBlockedCode = InviteBlockedStable
	}
	c.RefusedAddresses = append([]string(nil), c.RefusedAddresses...)
	c.Faults = c.Faults.withDefaults()
	c.Rules = append([]Rule(nil), c.Rules...)
	if c.DownMode == "" {
		c.DownMode = DownUnavailable
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return c
}

// Validate reports every invalid field of c (after defaults), each error
// naming the field, joined with [errors.Join]. It returns nil for a usable
// configuration.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("simulator: Config.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if strings.ContainsAny(c.ServerName, "/ ") {
		bad("ServerName", "%q is not a server name", c.ServerName)
	}
	if c.IdentityLatency < 0 {
		bad("IdentityLatency", "negative (%v)", c.IdentityLatency)
	}
	tokens := map[string]bool{}
	for i, u := range c.Users {
		field := fmt.Sprintf("Users[%d]", i)
		if u.AccessToken == "" {
			bad(field+".AccessToken", "empty")
		} else if tokens[u.AccessToken] {
			bad(field+".AccessToken", "used twice")
		}
		tokens[u.AccessToken] = true
		if !validID(u.UserID, '@') {
			bad(field+".UserID", "%q is not a user ID (@local:server)", u.UserID)
		}
	}
	for i, t := range c.IDAccessTokens {
		if t == "" {
			bad(fmt.Sprintf("IDAccessTokens[%d]", i), "empty")
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Rooms {
		errs = append(errs, r.validate(fmt.Sprintf("Rooms[%d]", i), seen)...)
	}
	if c.TxnTTL < 0 {
		bad("TxnTTL", "negative (%v)", c.TxnTTL)
	}
	errs = append(errs, validatePolicies("Terms", c.Terms)...)
	errs = append(errs, c.StoreLimit.validate("StoreLimit")...)
	errs = append(errs, c.NoThreePID.validate("NoThreePID")...)
	errs = append(errs, c.RateLimit.validate("RateLimit")...)
	errs = append(errs, c.InviteLimits.validate("InviteLimits")...)
	bound := map[string]string{}
	for i, b := range c.Bindings {
		field := fmt.Sprintf("Bindings[%d]", i)
		errs = append(errs, b.validate("simulator: Config."+field)...)
		key := addressKey(b.Medium, b.Address)
		if other, ok := bound[key]; ok && b.Address != "" {
			bad(field+".Address", "%q is bound already, by %s", b.Address, other)
		}
		bound[key] = field
	}
	for i, lb := range c.LaterBinds {
		errs = append(errs, lb.validate(fmt.Sprintf("simulator: Config.LaterBinds[%d]", i))...)
	}
	if !validInviteBlockedCode(c.InviteBlockedCode) {
		bad("InviteBlockedCode", "%q is not %s or %s", c.InviteBlockedCode, InviteBlockedStable, InviteBlockedUnstable)
	}
	errs = append(errs, validatePatterns("RefusedAddresses", c.RefusedAddresses)...)
	errs = append(errs, c.Faults.validate("Faults")...)
	for i, r := range c.Rules {
		errs = append(errs, r.validate(fmt.Sprintf("Rules[%d]", i))...)
	}
	if c.DownMode != DownUnavailable && c.DownMode != DownClose {
		bad("DownMode", "%q is not %q or %q", c.DownMode, DownUnavailable, DownClose)
	}
	if c.MaxBodyBytes < 0 {
		bad("MaxBodyBytes", "negative (%d)", c.MaxBodyBytes)
	}
	return errors.Join(errs...)
}

// validID reports whether id looks like a Matrix ID with the given sigil:
// sigil, a non-empty local part, ':' and a non-empty server name.
func validID(id string, sigil byte) bool {
	if len(id) < 4 || id[0] != sigil {
		return false
	}
	local, server, ok := strings.Cut(id[1:], ":")
	return ok && local != "" && server != "" && !strings.ContainsAny(id, " /")
}
