package simulator

import (
	"fmt"
	"net/http"
)

// NoThreePIDStyle names a homeserver that has no 3PID invites at all, and
// so how it refuses every one of them.
type NoThreePIDStyle string

// The servers without 3PID invites.
const (
	// ThreePIDSupported (the zero value) serves 3PID invites.
	ThreePIDSupported NoThreePIDStyle = ""
	// NoThreePIDConduit answers like Conduit, conduwuit and continuwuity:
	// 404 {"errcode":"M_NOT_FOUND","error":"User not found."}.
	NoThreePIDConduit NoThreePIDStyle = "conduit"
	// NoThreePIDTuwunel answers like tuwunel: 403 M_THREEPID_DENIED
	// "Third party identifiers are not implemented".
	NoThreePIDTuwunel NoThreePIDStyle = "tuwunel"
)

func (st NoThreePIDStyle) validate(field string) []error {
	switch st {
	case ThreePIDSupported, NoThreePIDConduit, NoThreePIDTuwunel:
		return nil
	}
	return []error{fmt.Errorf("simulator: Config.%s: %q is not %q, %q or empty", field, st, NoThreePIDConduit, NoThreePIDTuwunel)}
}

// reply is the refusal of a 3PID invite; ok is false when 3PID invites
// are supported.
func (st NoThreePIDStyle) reply() (reply, bool) {
	switch st {
	case NoThreePIDConduit:
		return errReply(http.StatusNotFound, "M_NOT_FOUND", "User not found."), true
	case NoThreePIDTuwunel:
		return errReply(http.StatusForbidden, "M_THREEPID_DENIED", "Third party identifiers are not implemented"), true
	}
	return reply{}, false
}
