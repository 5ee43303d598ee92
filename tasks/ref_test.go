package tasks_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// A reference's payload carries campaign and sender only: its key and
// generation come back from the task ID, a re-delivery's included.
func TestInviteRefRoundTrip(t *testing.T) {
	for _, gen := range []int{0, 3} {
		in := sampleInvite()
		in.Generation = gen
		inv := mustNewInvite(t, in)
		payload, err := inv.Ref().Payload()
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"ref":true,"campaign":"spring-newsletter","sender":"support"}`; string(payload) != want {
			t.Errorf("payload %s, want %s", payload, want)
		}
		for _, id := range []string{inv.TaskID(), tasks.RedeliveryTaskID(inv.TaskID(), 1765000000000)} {
			d, err := tasks.DecodeDelivery(id, payload)
			if err != nil {
				t.Fatalf("DecodeDelivery(%s, %s): %v", id, payload, err)
			}
			if d.Whole != nil || d.InviteRef != inv.Ref() || d.TaskID() != inv.TaskID() {
				t.Errorf("DecodeDelivery(%s) = %+v, want the reference %+v", id, d, inv.Ref())
			}
		}
	}
}

// A whole invite decodes as before (DecodeInvite's rules), with its
// reference beside it; the task ID is not needed.
func TestDecodeDeliveryOfAWholeInvite(t *testing.T) {
	inv := mustNewInvite(t, sampleInvite())
	payload, err := inv.Payload()
	if err != nil {
		t.Fatal(err)
	}
	d, err := tasks.DecodeDelivery("", payload)
	if err != nil || d.Whole == nil || *d.Whole != inv || d.InviteRef != inv.Ref() {
		t.Fatalf("DecodeDelivery = %+v (%v), want the whole invite", d, err)
	}
	// Without the marker, a payload missing the invite's fields is a
	// broken whole invite, not a reference.
	_, err = tasks.DecodeDelivery(inv.TaskID(), []byte(`{"campaign":"c","sender":"default"}`))
	assertFieldError(t, err, "room_id")
}

func TestDecodeDeliveryErrorsNameTheField(t *testing.T) {
	inv := mustNewInvite(t, sampleInvite())
	for _, c := range []struct{ id, payload, field string }{
		{"", `{"ref":true,"campaign":"c","sender":"default"}`, "task_id"},
		{"inv:not-a-key", `{"ref":true,"campaign":"c","sender":"default"}`, "task_id"},
		{inv.TaskID(), `{"ref":true,"campaign":"c"}`, "sender"},
		{inv.TaskID(), `{"ref":true,"sender":"default"}`, "campaign"},
		{inv.TaskID(), `{"ref":true,"campaign":7,"sender":"default"}`, "campaign"},
		{inv.TaskID(), `{"ref":true,"campaign":"c","sender":"has space"}`, "sender"},
		{inv.TaskID(), `[1]`, "payload"},
		{inv.TaskID(), `{"ref":true,"campaign":"` + strings.Repeat("x", tasks.MaxPayloadBytes) + `"}`, "payload"},
	} {
		_, err := tasks.DecodeDelivery(c.id, []byte(c.payload))
		if fe := assertFieldError(t, err, c.field); !errors.Is(fe, tasks.ErrInvalid) {
			t.Errorf("%s: %v does not match ErrInvalid", c.payload[:min(len(c.payload), 60)], err)
		}
	}
}

// The record's identity fields make the invite back, and only when they
// hash to the reference's key.
func TestInviteRefInviteChecksTheKey(t *testing.T) {
	inv := mustNewInvite(t, sampleInvite())
	ref := inv.Ref()
	at := inv.EnqueuedAt.Format(time.RFC3339Nano)
	got, err := ref.Invite(inv.RoomID, string(inv.Medium), inv.Address, inv.IDServer, at)
	if err != nil || got != inv {
		t.Fatalf("Invite = %+v (%v), want %+v", got, err, inv)
	}
	_, err = ref.Invite(inv.RoomID, string(inv.Medium), "mallory@example.org", inv.IDServer, at)
	assertFieldError(t, err, "key")
	_, err = ref.Invite(inv.RoomID, string(inv.Medium), inv.Address, inv.IDServer, "yesterday")
	assertFieldError(t, err, "enqueued_at")
	_, err = ref.Invite("not a room", string(inv.Medium), inv.Address, inv.IDServer, at)
	assertFieldError(t, err, "room_id")
}
