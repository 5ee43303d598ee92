package tasks_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestDecodeInviteRoundTrip(t *testing.T) {
	for _, modify := range []func(*tasks.Invite){
		func(*tasks.Invite) {},
		func(i *tasks.Invite) { i.Generation = 4; i.IDServer = "" },
		func(i *tasks.Invite) { i.Medium, i.Address = tasks.MediumMSISDN, "442079460958" },
	} {
		in := sampleInvite()
		modify(&in)
		inv := mustNewInvite(t, in)
		payload, err := inv.Payload()
		if err != nil {
			t.Fatal(err)
		}
		got, err := tasks.DecodeInvite(payload)
		if err != nil {
			t.Fatalf("DecodeInvite(%s): %v", payload, err)
		}
		if got != inv {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, inv)
		}
	}
}

func TestDecodeInviteErrors(t *testing.T) {
	const valid = `{"campaign":"c","room_id":"!r:example.org","medium":"email","address":"a@example.org","sender":"default","enqueued_at":"2025-03-01T12:00:00Z"}`
	// with returns the valid payload with field name set to the raw JSON
	// value, or removed when value is "".
	with := func(name, value string) string {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			t.Fatal(err)
		}
		if value == "" {
			delete(m, name)
		} else {
			m[name] = json.RawMessage(value)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if _, err := tasks.DecodeInvite([]byte(valid)); err != nil {
		t.Fatalf("the valid payload does not decode: %v", err)
	}

	tests := []struct {
		name    string
		payload string
		field   string
		reason  string
	}{
		{name: "empty", payload: "", field: "payload", reason: "JSON object"},
		{name: "not JSON", payload: "campaign=c", field: "payload", reason: "JSON object"},
		{name: "array", payload: "[]", field: "payload", reason: "JSON object"},
		{name: "null", payload: "null", field: "payload", reason: "JSON object"},
		{name: "trailing garbage", payload: valid + "x", field: "payload", reason: "JSON object"},
		{name: "too large", payload: `{"campaign":"` + strings.Repeat("x", tasks.MaxPayloadBytes) + `"}`, field: "payload", reason: "limit"},
		{name: "missing campaign", payload: with("campaign", ""), field: "campaign", reason: "required"},
		{name: "missing room_id", payload: with("room_id", ""), field: "room_id", reason: "required"},
		{name: "missing medium", payload: with("medium", ""), field: "medium", reason: "required"},
		{name: "missing address", payload: with("address", ""), field: "address", reason: "required"},
		{name: "missing sender", payload: with("sender", ""), field: "sender", reason: "required"},
		{name: "missing enqueued_at", payload: with("enqueued_at", ""), field: "enqueued_at", reason: "required"},
		{name: "null room_id", payload: with("room_id", "null"), field: "room_id", reason: "required"},
		{name: "room_id number", payload: with("room_id", "42"), field: "room_id", reason: "JSON string"},
		{name: "address object", payload: with("address", "{}"), field: "address", reason: "JSON string"},
		{name: "generation string", payload: with("generation", `"2"`), field: "generation", reason: "JSON integer"},
		{name: "generation float", payload: with("generation", "1.5"), field: "generation", reason: "JSON integer"},
		{name: "generation negative", payload: with("generation", "-1"), field: "generation", reason: "negative"},
		{name: "enqueued_at not a time", payload: with("enqueued_at", `"yesterday"`), field: "enqueued_at", reason: "RFC 3339"},
		{name: "enqueued_at number", payload: with("enqueued_at", "1700000000"), field: "enqueued_at", reason: "JSON string"},
		{name: "field name case", payload: strings.Replace(valid, `"campaign"`, `"Campaign"`, 1), field: "campaign", reason: "required"},
		{name: "invalid room_id", payload: with("room_id", `"#alias:example.org"`), field: "room_id", reason: `must be a room ID`},
		{name: "medium not canonical", payload: with("medium", `"EMAIL"`), field: "medium", reason: `"email" or "msisdn"`},
		{name: "address not normalised", payload: with("address", `"a@EXAMPLE.org"`), field: "address", reason: "normalised"},
		{name: "bad id_server", payload: with("id_server", `"https://x.org"`), field: "id_server", reason: "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := tasks.DecodeInvite([]byte(tt.payload))
			if err == nil {
				t.Fatalf("DecodeInvite(%.200s) = %+v, want an error", tt.payload, inv)
			}
			fe := assertFieldError(t, err, tt.field)
			if !strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q (payload %.200s)", fe.Reason, tt.reason, tt.payload)
			}
		})
	}
}

func TestDecodeInviteIgnoresUnknownFields(t *testing.T) {
	payload := `{"campaign":"c","room_id":"!r:example.org","medium":"msisdn","address":"442079460958","sender":"s","enqueued_at":"2025-03-01T12:00:00.5+01:00","priority":"high"}`
	inv, err := tasks.DecodeInvite([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if inv.EnqueuedAt.Hour() != 11 || inv.EnqueuedAt.Location().String() != "UTC" {
		t.Errorf("EnqueuedAt = %v, want 11:00:00.5 UTC", inv.EnqueuedAt)
	}
}
