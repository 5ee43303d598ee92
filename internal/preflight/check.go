package preflight

import (
	"fmt"
	"io"
	"strings"
)

// Names of the checks, in the order Run makes them.
const (
	CheckToken          = "access token"
	CheckRoom           = "room"
	CheckMembership     = "membership"
	CheckPowerLevel     = "power level"
	CheckIdentityToken  = "identity token"
	CheckIdentityServer = "identity server"
	CheckRateLimit      = "rate limit"
	CheckPace           = "pace"
)

// AcceptTermsFlag is the command-line flag that accepts an identity
// server's terms; failed checks name it.
const AcceptTermsFlag = "--accept-identity-terms"

// Check is the result of one check. Detail says what was found, or why the
// check failed (and, for a check that could not be made, which failure it
// depends on). An Info check is a note that never fails (OK is true): what
// the sender's rate limit means for the campaign.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Info   bool   `json:"info,omitempty"`
	Detail string `json:"detail"`
}

// String renders the check as one line: "✓ name: detail", "✗ name: detail"
// or, for a note, "ℹ name: detail".
func (c Check) String() string {
	mark := "✗"
	switch {
	case c.Info:
		mark = "ℹ"
	case c.OK:
		mark = "✓"
	}
	return fmt.Sprintf("%s %s: %s", mark, c.Name, c.Detail)
}

// Report is the outcome of Run.
type Report struct {
	// Checks lists every check made, in order.
	Checks []Check `json:"checks"`
	// RoomID is the room the checks were made against (an alias resolved);
	// empty when the alias did not resolve.
	RoomID string `json:"room_id,omitempty"`
	// UserID is the sender, as the homeserver named it; empty when the
	// token was refused.
	UserID string `json:"user_id,omitempty"`
}

// OK reports whether every check passed.
func (r Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Failed returns the checks that did not pass.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// WriteTo writes one line per check.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for _, c := range r.Checks {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// add records a check.
func (r *Report) add(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// note records an Info check.
func (r *Report) note(name string, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: true, Info: true, Detail: fmt.Sprintf(format, args...)})
}
