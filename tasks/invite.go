package tasks

import (
	"strconv"
	"strings"
	"time"
)

// Invite is the payload of an invite:3pid task: invite one email address or
// phone number into one room, on behalf of one sender profile.
//
// Build it with NewInvite (producer) or DecodeInvite (worker); both return
// only valid, normalised invites.
type Invite struct {
	// Campaign names the bulk import or operator action the invite belongs to,
	// for reporting. It is not part of the task identity.
	Campaign string `json:"campaign"`
	// RoomID is the room to invite into, e.g. "!abc:example.org".
	RoomID string `json:"room_id"`
	// Medium says whether Address is an email address or a phone number.
	Medium Medium `json:"medium"`
	// Address is the normalised 3PID: see NormalizeEmail and NormalizeMSISDN.
	Address string `json:"address"`
	// IDServer is the identity server as hostname[:port]; empty means the
	// default of the worker's sender profile.
	IDServer string `json:"id_server,omitempty"`
	// Sender names a sender profile configured on the worker. It is never a
	// token: payloads sit in Redis and in logs.
	Sender string `json:"sender"`
	// EnqueuedAt is when the producer created the invite, in UTC.
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Generation is 0 for the first invite. An explicit re-invite (--again)
	// uses a higher generation so that it gets a new task ID instead of being
	// deduplicated against the first.
	Generation int `json:"generation,omitempty"`
}

// NewInvite validates and normalises a filled-in Invite: medium names are
// parsed leniently, the address is normalised, surrounding spaces are
// trimmed and the identity server is lower-cased. An empty Sender becomes
// DefaultSender and a zero EnqueuedAt becomes the current time; EnqueuedAt is
// converted to UTC. The error, if any, is a *FieldError naming the field.
func NewInvite(in Invite) (Invite, error) {
	inv, err := in.canonical()
	if err != nil {
		return Invite{}, err
	}
	if inv.EnqueuedAt.IsZero() {
		inv.EnqueuedAt = time.Now()
	}
	inv.EnqueuedAt = inv.EnqueuedAt.UTC() // also strips the monotonic reading
	if err := inv.Validate(); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// canonical returns i with every identity field in canonical form. It
// reports the first field that cannot be normalised but still returns the
// best effort, which Key relies on.
func (i Invite) canonical() (Invite, error) {
	var firstErr error
	i.Campaign = strings.TrimSpace(i.Campaign)
	i.RoomID = strings.TrimSpace(i.RoomID)
	i.IDServer = strings.ToLower(strings.TrimSpace(i.IDServer))
	i.Sender = strings.TrimSpace(i.Sender)
	if i.Sender == "" {
		i.Sender = DefaultSender
	}
	if m, err := ParseMedium(string(i.Medium)); err != nil {
		firstErr = err
	} else {
		i.Medium = m
		if addr, err := NormalizeAddress(m, i.Address); err != nil {
			firstErr = err
		} else {
			i.Address = addr
		}
	}
	return i, firstErr
}

// Validate checks every field against the rules the worker enforces and
// returns a *FieldError for the first field that breaks one. The address
// must already be normalised, so that equal invites always have equal keys.
func (i Invite) Validate() error {
	if reason := campaignProblem(i.Campaign); reason != "" {
		return fieldError("campaign", i.Campaign, reason)
	}
	if reason := roomIDProblem(i.RoomID); reason != "" {
		return fieldError("room_id", i.RoomID, reason)
	}
	if !i.Medium.valid() {
		return fieldError("medium", string(i.Medium), `must be "email" or "msisdn"`)
	}
	normalised, err := NormalizeAddress(i.Medium, i.Address)
	if err != nil {
		return err
	}
	if normalised != i.Address {
		return fieldError("address", i.Address, "must be normalised (as "+quote(normalised)+")")
	}
	if reason := idServerProblem(i.IDServer); reason != "" {
		return fieldError("id_server", i.IDServer, reason)
	}
	if reason := senderProblem(i.Sender); reason != "" {
		return fieldError("sender", i.Sender, reason)
	}
	if reason := enqueuedAtProblem(i.EnqueuedAt); reason != "" {
		return fieldError("enqueued_at", i.EnqueuedAt.Format(time.RFC3339Nano), reason)
	}
	if i.Generation < 0 {
		return fieldError("generation", strconv.Itoa(i.Generation), "must not be negative")
	}
	return nil
}
