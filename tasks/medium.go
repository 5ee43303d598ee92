package tasks

import "strings"

// Medium is the kind of third-party identifier an invite goes to, as Matrix
// names it in 3PID invites.
type Medium string

// The media an identity server can look up and invite.
const (
	MediumEmail  Medium = "email"
	MediumMSISDN Medium = "msisdn" // a phone number, E.164 digits without "+"
)

// ParseMedium parses a medium name as an operator would type it: surrounding
// spaces and letter case are ignored.
func ParseMedium(s string) (Medium, error) {
	switch m := Medium(strings.ToLower(strings.TrimSpace(s))); m {
	case MediumEmail, MediumMSISDN:
		return m, nil
	}
	return "", fieldError("medium", s, `must be "email" or "msisdn"`)
}

// valid reports whether m is one of the known media, spelled canonically.
func (m Medium) valid() bool {
	return m == MediumEmail || m == MediumMSISDN
}

// MediumOf is the medium a normalised address spells (NormalizeAddress):
// an email address has an '@', a phone number (E.164 digits) none; "" for
// no address. Records leave out a medium their address spells, and
// readers take it back from here.
func MediumOf(address string) Medium {
	switch {
	case address == "":
		return ""
	case strings.Contains(address, "@"):
		return MediumEmail
	default:
		return MediumMSISDN
	}
}
