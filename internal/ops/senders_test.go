package ops_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/worker"
)

var _ worker.Observer = (*ops.SenderStates)(nil)

func ready(s *ops.SenderStates) string {
	if err := s.Ready(context.Background()); err != nil {
		return err.Error()
	}
	return ""
}

func TestSenderStates(t *testing.T) {
	s := ops.NewSenderStates([]string{"a", "b"}, false)
	if got := ready(s); got != "" {
		t.Errorf("fresh: %q", got)
	}
	s.SenderPaused("a", "forbidden")
	if got := ready(s); got != "" {
		t.Errorf("one of two paused: %q", got)
	}
	s.SenderPaused("b", "rate_limited")
	if got, want := ready(s), "all paused: a (forbidden), b (rate_limited)"; got != want {
		t.Errorf("both paused: %q, want %q", got, want)
	}
	s.SenderResumed("a")
	if got := ready(s); got != "" {
		t.Errorf("one resumed: %q", got)
	}
	if p := s.Paused(); len(p) != 1 || p["b"] != "rate_limited" {
		t.Errorf("Paused() = %v", p)
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
