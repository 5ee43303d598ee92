package tasks

import (
	"encoding/json"
	"time"
)

// DecodeInvite decodes and validates a task payload for the worker.
//
// It is strict where a lenient decoder would hide producer bugs: the payload
// must be a JSON object of at most MaxPayloadBytes, field names must be
// spelled exactly, every required field (campaign, room_id, medium,
// address, sender, enqueued_at) must be present with the right JSON type,
// and the result must pass Validate. Unknown fields are ignored so that a
// newer producer can add optional fields without stranding tasks on older
// workers.
//
// Every error is a *FieldError naming the field (or "payload") and matches
// ErrInvalid; retrying such a task cannot help.
func DecodeInvite(payload []byte) (Invite, error) {
	fields, err := payloadFields(payload)
	if err != nil {
		return Invite{}, err
	}
	return inviteOf(fields)
}

// payloadFields decodes a payload of at most MaxPayloadBytes as a JSON
// object, its fields left undecoded.
func payloadFields(payload []byte) (map[string]json.RawMessage, error) {
	if len(payload) > MaxPayloadBytes {
		return nil, payloadTooLarge(payload)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil || fields == nil {
		return nil, fieldError("payload", string(payload), "must be a JSON object")
	}
	return fields, nil
}

// inviteOf reads a whole invite's fields (DecodeInvite's rules).
func inviteOf(fields map[string]json.RawMessage) (Invite, error) {
	d := decoder{fields: fields}
	inv := Invite{
		Campaign: d.stringField("campaign", true),
		RoomID:   d.stringField("room_id", true),
		Medium:   Medium(d.stringField("medium", true)),
		Address:  d.stringField("address", true),
		IDServer: d.stringField("id_server", false),
		Sender:   d.stringField("sender", true),
	}
	inv.EnqueuedAt = d.timeField("enqueued_at")
	inv.Generation = d.intField("generation")
	if d.err != nil {
		return Invite{}, d.err
	}
	if err := inv.Validate(); err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// decoder reads typed fields out of a decoded JSON object and keeps the
// first error, so DecodeInvite reads as a list of fields.
type decoder struct {
	fields map[string]json.RawMessage
	err    *FieldError
}

// raw returns the field's JSON text, or nil if it is absent or null.
func (d *decoder) raw(name string, required bool) json.RawMessage {
	raw, ok := d.fields[name]
	if ok && string(raw) != "null" {
		return raw
	}
	if required && d.err == nil {
		d.err = fieldError(name, "", "is required")
	}
	return nil
}

func (d *decoder) stringField(name string, required bool) string {
	raw := d.raw(name, required)
	var s string
	if raw != nil && json.Unmarshal(raw, &s) != nil && d.err == nil {
		d.err = fieldError(name, string(raw), "must be a JSON string")
	}
	return s
}

func (d *decoder) timeField(name string) time.Time {
	s := d.stringField(name, true)
	if s == "" || d.err != nil {
		return time.Time{}
	}
	t, err := parseTime(name, s)
	if err != nil {
		d.err = err
	}
	return t
}

// parseTime reads the RFC 3339 time s of the field name, in UTC so that a
// decoded invite compares equal to a re-decoded one.
func parseTime(name, s string) (time.Time, *FieldError) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldError(name, s, "must be an RFC 3339 timestamp")
	}
	return t.UTC(), nil
}

func (d *decoder) intField(name string) int {
	raw := d.raw(name, false)
	var n int
	if raw != nil && json.Unmarshal(raw, &n) != nil && d.err == nil {
		d.err = fieldError(name, string(raw), "must be a JSON integer")
	}
	return n
}
