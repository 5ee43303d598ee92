package tasks

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// InviteRef is the payload of a registered invite's task: a producer that
// records its invites before enqueueing them (mxinvite's own) stores the
// room, medium, address, identity server and enqueue time once, in the
// invite's record, and its task carries only what a worker needs before it
// reads that record. The invite's key and generation are the task ID's
// (TaskIDOf), so the payload does not repeat them either:
//
//	{"ref":true,"campaign":"spring","sender":"default"}
//
// A worker reads the rest from the record when the delivery begins. A
// producer that does not register its invites (Invite.Task) sends the
// whole Invite instead; workers read both shapes (DecodeDelivery).
type InviteRef struct {
	// Key and Generation name the invite's record; they travel in the
	// task ID, not in the payload.
	Key        string `json:"-"`
	Generation int    `json:"-"`
	// Campaign is the campaign the task was enqueued for.
	Campaign string `json:"campaign"`
	// Sender names the sender profile whose queues and limits the task
	// uses.
	Sender string `json:"sender"`
}

// refPayload is InviteRef's JSON form, marked so that it is never read as
// an incomplete whole Invite.
type refPayload struct {
	Ref bool `json:"ref"`
	InviteRef
}

// Ref is the reference to the invite's record (its key, generation,
// campaign and sender).
func (i Invite) Ref() InviteRef {
	return InviteRef{Key: i.Key(), Generation: i.Generation, Campaign: i.Campaign, Sender: i.Sender}
}

// TaskID is the task ID of the invite the reference names (TaskIDOf).
func (r InviteRef) TaskID() string { return TaskIDOf(r.Key, r.Generation) }

// Validate checks the campaign and sender as Invite.Validate does, and the
// key's form.
func (r InviteRef) Validate() error {
	if _, err := hex.DecodeString(r.Key); err != nil || len(r.Key) != keyHexLen || r.Generation < 0 {
		return fieldError("key", r.TaskID(), "must be an invite's key (32 hex digits) and generation")
	}
	if reason := campaignProblem(r.Campaign); reason != "" {
		return fieldError("campaign", r.Campaign, reason)
	}
	if reason := senderProblem(r.Sender); reason != "" {
		return fieldError("sender", r.Sender, reason)
	}
	return nil
}

// Payload validates the reference and encodes it as a task payload (for
// the task whose ID is r.TaskID()).
func (r InviteRef) Payload() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(refPayload{Ref: true, InviteRef: r})
	if err != nil {
		return nil, fmt.Errorf("tasks: encoding invite reference: %w", err)
	}
	return payload, nil
}

// Delivery is a decoded invite task: the reference to its record, and the
// whole invite when the payload carries it.
type Delivery struct {
	InviteRef
	// Whole is the invite when the payload is a whole Invite; nil for a
	// reference, whose record holds the rest.
	Whole *Invite
}

// DecodeDelivery decodes a delivered invite task of either shape: a whole
// Invite (DecodeInvite's rules; taskID is not needed) or an InviteRef,
// whose key and generation it reads from taskID (a re-delivery's ID names
// the same invite: ParseTaskID). Errors are *FieldError values, as
// DecodeInvite's.
func DecodeDelivery(taskID string, payload []byte) (Delivery, error) {
	fields, err := payloadFields(payload)
	if err != nil {
		return Delivery{}, err
	}
	if string(fields["ref"]) != "true" {
		inv, err := inviteOf(fields)
		if err != nil {
			return Delivery{}, err
		}
		return Delivery{InviteRef: inv.Ref(), Whole: &inv}, nil
	}
	key, gen, ok := ParseTaskID(taskID)
	if !ok {
		return Delivery{}, fieldError("task_id", taskID, "must name an invite (inv:KEY, :gN for a re-invite) when the payload is a reference")
	}
	d := decoder{fields: fields}
	r := InviteRef{Key: key, Generation: gen, Campaign: d.stringField("campaign", true), Sender: d.stringField("sender", true)}
	if d.err != nil {
		return Delivery{}, d.err
	}
	if err := r.Validate(); err != nil {
		return Delivery{}, err
	}
	return Delivery{InviteRef: r}, nil
}

// Invite is the invite the reference names, from its record's identity
// fields (enqueuedAt in RFC 3339). The record's address is normalised and
// its identity hashes to r.Key; an error says the record is not this
// reference's.
func (r InviteRef) Invite(roomID, medium, address, idServer, enqueuedAt string) (Invite, error) {
	at, err := parseTime("enqueued_at", enqueuedAt)
	if err != nil {
		return Invite{}, err
	}
	inv := Invite{Campaign: r.Campaign, RoomID: roomID, Medium: Medium(medium), Address: address,
		IDServer: idServer, Sender: r.Sender, EnqueuedAt: at, Generation: r.Generation}
	if err := inv.Validate(); err != nil {
		return Invite{}, err
	}
	if inv.Key() != r.Key {
		return Invite{}, fieldError("key", r.Key, "is not the key of the record's invite ("+inv.Key()+")")
	}
	return inv, nil
}
