package matrix

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Sentinel errors for identifiers; the *IDError returned by the parsers
// wraps one of them, so errors.Is(err, ErrInvalidRoomID) works.
var (
	// ErrInvalidRoomID is wrapped by errors about room IDs.
	ErrInvalidRoomID = errors.New("matrix: invalid room ID")
	// ErrInvalidUserID is wrapped by errors about user IDs.
	ErrInvalidUserID = errors.New("matrix: invalid user ID")
	// ErrInvalidRoomAlias is wrapped by errors about room aliases.
	ErrInvalidRoomAlias = errors.New("matrix: invalid room alias")
)

// maxIDLength is the spec's limit on room IDs, user IDs and aliases, in bytes.
const maxIDLength = 255

// RoomID is a room ID, "!opaque:server". A distinct type so that an alias
// cannot be passed where an ID is needed: Dendrite answers an alias in the
// invite path with a 500 after the identity server already sent an email.
type RoomID string

// UserID is a user ID, "@localpart:server".
type UserID string

// RoomAlias is a room alias, "#name:server".
type RoomAlias string

// IDError says why an identifier was rejected. It unwraps to one of
// ErrInvalidRoomID, ErrInvalidUserID or ErrInvalidRoomAlias.
type IDError struct {
	Kind    error  // the sentinel: ErrInvalidRoomID, ErrInvalidUserID or ErrInvalidRoomAlias
	Input   string // the rejected text
	Problem string // what is wrong with it
}

// Error implements error.
func (e *IDError) Error() string {
	return fmt.Sprintf("%v %q: %s", e.Kind, e.Input, e.Problem)
}

// Unwrap returns the sentinel, for errors.Is.
func (e *IDError) Unwrap() error { return e.Kind }

// ParseRoomID checks that s is "!opaque:server" with both parts non-empty.
func ParseRoomID(s string) (RoomID, error) {
	if err := checkID(s, '!', "opaque ID", ErrInvalidRoomID); err != nil {
		return "", err
	}
	return RoomID(s), nil
}

// ParseUserID checks that s is "@localpart:server" with both parts non-empty.
func ParseUserID(s string) (UserID, error) {
	if err := checkID(s, '@', "localpart", ErrInvalidUserID); err != nil {
		return "", err
	}
	return UserID(s), nil
}

// ParseRoomAlias checks that s is "#name:server" with both parts non-empty.
func ParseRoomAlias(s string) (RoomAlias, error) {
	if err := checkID(s, '#', "alias name", ErrInvalidRoomAlias); err != nil {
		return "", err
	}
	return RoomAlias(s), nil
}

// checkID validates the common grammar "<sigil><local>:<server>". The local
// part ends at the first ':' because the server name may carry a port.
func checkID(s string, sigil byte, localName string, kind error) error {
	fail := func(problem string, args ...any) error {
		return &IDError{Kind: kind, Input: s, Problem: fmt.Sprintf(problem, args...)}
	}
	switch {
	case s == "":
		return fail("empty")
	case len(s) > maxIDLength:
		return fail("longer than %d bytes", maxIDLength)
	case s[0] != sigil:
		return fail("must start with %q", string(sigil))
	case strings.IndexFunc(s, badIDRune) >= 0:
		return fail("contains whitespace or a control character")
	}
	local, server, found := strings.Cut(s[1:], ":")
	switch {
	case !found:
		return fail("missing ':' between the %s and the server name", localName)
	case local == "":
		return fail("empty %s", localName)
	case server == "":
		return fail("empty server name")
	}
	return nil
}

// badIDRune rejects characters no identifier contains; they usually come from
// untrimmed input (CSV cells, copy-paste).
func badIDRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
