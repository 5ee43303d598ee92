package ops_test

import (
	"context"
	"errors"
	"github.com/mxinvite/mxinvite/internal/observe"
	"testing"

	"github.com/mxinvite/mxinvite/internal/ops"
)

var _ observe.Observer = (*ops.SenderStates)(nil)

func ready(r ops.Readiness) string {
	if err := r.Ready(context.Background()); err != nil {
		return err.Error()
	}
	return ""
}

func TestSenderStates(t *testing.T) {
	s := ops.NewSenderStates([]string{"a", "b"}, false)
	if got := ready(s); got != "" {
		t.Errorf("fresh: %q", got)
	}
	// Pauses are read from Redis (SenderPauses), never from events that a
	// resume elsewhere would not undo.
	s.SenderPaused("a", "forbidden")
	s.SenderPaused("b", "rate_limited")
	if got := ready(s); got != "" {
		t.Errorf("both paused by events: %q, want ready (pauses are SenderPauses' business)", got)
	}
	s.SenderChecked("a", errors.New("whoami: M_UNKNOWN_TOKEN"))
	s.SenderChecked("b", nil)
	if got, want := ready(s), "a check failed: whoami: M_UNKNOWN_TOKEN"; got != want {
		t.Errorf("a check failed: %q, want %q", got, want)
	}
}

func TestSenderStatesRequireChecks(t *testing.T) {
	s := ops.NewSenderStates([]string{"a", "b"}, true)
	s.SenderChecked("a", nil)
	if got, want := ready(s), "b not checked yet"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	s.SenderChecked("b", nil)
	if got := ready(s); got != "" {
		t.Errorf("all checked: %q", got)
	}
}
