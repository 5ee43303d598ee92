package record

// LimitScope is whom a 429 belongs to: what its wait holds back.
type LimitScope string

// The scopes of a rate limit (Synapse's rc_invites has all three:
// per_user keyed by the invitee, per_room by the room, per_issuer and
// rc_third_party_invite by the sender).
const (
	// ScopeInvitee: only the limited invite waits its advice.
	ScopeInvitee LimitScope = "invitee"
	// ScopeRoom: the sender's invites into that room wait.
	ScopeRoom LimitScope = "room"
	// ScopeSender: every invite of the sender waits (its shared gate), and
	// its pace adapts.
	ScopeSender LimitScope = "sender"
)

// LimitScopes lists the scopes, narrowest first.
var LimitScopes = []LimitScope{ScopeInvitee, ScopeRoom, ScopeSender}
