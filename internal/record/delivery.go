package record

// Delivery is how an invite reached its invitee, or why it needed no
// request (resolve-first, docs/campaigns.md "Who joined").
type Delivery string

const (
	// DeliveryUserID: the address is bound to an account, invited by its
	// Matrix ID (POST …/invite {"user_id"}; no email).
	DeliveryUserID Delivery = "user_id"
	// Delivery3PID: invited by address (a third-party invite; the identity
	// server emails the invitee).
	Delivery3PID Delivery = "3pid"
	// DeliveryAlreadyJoined: the account is in the room already; final
	// (Success) with no request.
	DeliveryAlreadyJoined Delivery = "already_joined"
	// DeliveryAlreadyInvited: the account has a pending invite to the room
	// already; final (Success) with no request.
	DeliveryAlreadyInvited Delivery = "already_invited"
)

// Sent reports whether an invite was delivered by a request of its own
// (the funnel's "sent"): by Matrix ID or by 3PID, not already_*.
func (d Delivery) Sent() bool { return d == DeliveryUserID || d == Delivery3PID }

// Path is the rate-limit path of an invite's requests: invites by Matrix
// ID and 3PID invites are limited by different Synapse limiters
// (rc_invites, rc_third_party_invite), so each has its own gate per sender
// and one path's 429 never slows the other.
type Path string

const (
	// Path3PID is the third-party invite path: the sender's gate as it
	// always was ({prefix}:gate:{sender}).
	Path3PID Path = ""
	// PathMatrixID is the invite-by-Matrix-ID path
	// ({prefix}:gate:{sender}:mxid).
	PathMatrixID Path = "mxid"
)

// Funnel is what became of a campaign's invites after they went out.
type Funnel struct {
	// Sent counts invites delivered by a request (by Matrix ID or 3PID),
	// already_* excluded.
	Sent int `json:"sent"`
	// Registered counts 3PID invitees whose address was bound to an
	// account after the invite (seen by mxinvite track).
	Registered int `json:"registered"`
	// Joined counts invitees now joined to the room, those joined before
	// the campaign included.
	Joined int `json:"joined"`
}
