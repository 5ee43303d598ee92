package tasks_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// enqueuedAt is a fixed timestamp so that tests and examples are repeatable.
var enqueuedAt = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

// sampleInvite returns a valid, already normalised invite that tests modify.
func sampleInvite() tasks.Invite {
	return tasks.Invite{
		Campaign:   "spring-newsletter",
		RoomID:     "!abcdef:example.org",
		Medium:     tasks.MediumEmail,
		Address:    "alice.smith@example.org",
		IDServer:   "vector.im",
		Sender:     "support",
		EnqueuedAt: enqueuedAt,
	}
}

// mustNewInvite is NewInvite for inputs the test knows to be valid.
func mustNewInvite(t *testing.T, in tasks.Invite) tasks.Invite {
	t.Helper()
	inv, err := tasks.NewInvite(in)
	if err != nil {
		t.Fatalf("NewInvite(%+v): %v", in, err)
	}
	return inv
}

// assertFieldError checks that err is a *FieldError for field and returns it.
func assertFieldError(t *testing.T, err error, field string) *tasks.FieldError {
	t.Helper()
	var fe *tasks.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field {
		t.Errorf("error %q names field %q, want %q", err, fe.Field, field)
	}
	if !errors.Is(err, tasks.ErrInvalid) {
		t.Errorf("error %q does not match ErrInvalid", err)
	}
	return fe
}

// v12Room is a room version 12 ID (the one of issue 10): no server part.
const v12Room = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"

// roomForms is part of the reason given for a room ID of neither form.
const roomForms = `"!opaque:server" (room versions 1-11) or "!" followed by 43 URL-safe base64 characters (room version 12)`
