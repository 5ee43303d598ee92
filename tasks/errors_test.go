package tasks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/tasks"
)

func TestFieldErrorMessage(t *testing.T) {
	err := &tasks.FieldError{Field: "room_id", Value: "abc", Reason: `must start with "!" and contain ":"`}
	want := `room_id "abc": must start with "!" and contain ":"`
	if got := err.Error(); got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
}

func TestFieldErrorTruncatesLongValues(t *testing.T) {
	err := &tasks.FieldError{Field: "campaign", Value: strings.Repeat("é", 500), Reason: "too long"}
	msg := err.Error()
	if !strings.Contains(msg, strings.Repeat("é", 80)+"…") || strings.Contains(msg, strings.Repeat("é", 81)) {
		t.Errorf("value not truncated to 80 runes: %s", msg)
	}
}

func TestFieldErrorIsErrInvalid(t *testing.T) {
	_, err := tasks.NewInvite(tasks.Invite{})
	if !errors.Is(err, tasks.ErrInvalid) {
		t.Fatalf("errors.Is(%v, ErrInvalid) = false", err)
	}
	var fe *tasks.FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(%v, *FieldError) = false", err)
	}
	if errors.Is(errors.New("other"), tasks.ErrInvalid) {
		t.Error("an unrelated error matched ErrInvalid")
	}
}
