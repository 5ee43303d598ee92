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

// RoomID is a room ID: "!opaque:server" (room versions 1-11) or "!" and 43
// characters of unpadded URL-safe base64 (room version 12 and later, spec
// v1.16). It is opaque: never take a server name from it, and always
// percent-encode it in a path. A distinct type so that an alias cannot be
// passed where an ID is needed: Dendrite answers an alias in the invite
// path with a 500 after the identity server already sent an email.
type RoomID string

// RoomIDForms names the accepted room ID forms, for error messages.
const RoomIDForms = `"!opaque:server" (room versions 1-11) or "!" followed by 43 URL-safe base64 characters (room version 12)`

// hashRoomIDLength is the length of a room version 12 ID: "!" and the 43
// characters of an unpadded URL-safe base64 SHA-256 (MSC4291).
const hashRoomIDLength = 1 + 43

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

// ParseRoomID accepts both forms of RoomID: "!opaque:server" with both
// parts non-empty (spec regex ^![^:\x00]+:[^\x00]+$), or the room version 12
// form ^![A-Za-z0-9_-]{43}$; at most 255 bytes, without whitespace or
// control characters either way.
func ParseRoomID(s string) (RoomID, error) {
	if isHashRoomID(s) {
		return RoomID(s), nil
	}
	if err := roomIDGrammar.check(s); err != nil {
		return "", err
	}
	return RoomID(s), nil
}

// isHashRoomID reports whether s is a room version 12 ID.
func isHashRoomID(s string) bool {
	if len(s) != hashRoomIDLength || s[0] != '!' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isBase64URLByte(s[i]) {
			return false
		}
	}
	return true
}

// isBase64URLByte reports whether c is in the URL-safe base64 alphabet.
func isBase64URLByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// ParseUserID checks that s is "@localpart:server" with both parts non-empty.
func ParseUserID(s string) (UserID, error) {
	if err := userIDGrammar.check(s); err != nil {
		return "", err
	}
	return UserID(s), nil
}

// ParseRoomAlias checks that s is "#name:server" with both parts non-empty.
func ParseRoomAlias(s string) (RoomAlias, error) {
	if err := aliasGrammar.check(s); err != nil {
		return "", err
	}
	return RoomAlias(s), nil
}

// idGrammar is the common grammar "<sigil><local>:<server>".
type idGrammar struct {
	kind      error  // the sentinel the IDError wraps
	sigil     byte   // '!', '@' or '#'
	localName string // what the part before ':' is called
	// want, when set, replaces the problems "wrong sigil" and "no ':'": for
	// room IDs, where a missing ':' may be a mistyped version 12 ID, it
	// names both accepted forms.
	want string
}

var (
	roomIDGrammar = idGrammar{kind: ErrInvalidRoomID, sigil: '!', localName: "opaque ID", want: "want " + RoomIDForms}
	userIDGrammar = idGrammar{kind: ErrInvalidUserID, sigil: '@', localName: "localpart"}
	aliasGrammar  = idGrammar{kind: ErrInvalidRoomAlias, sigil: '#', localName: "alias name"}
)

// check validates s. The local part ends at the first ':' because the
// server name may carry a port.
func (g idGrammar) check(s string) error {
	fail := func(problem string, args ...any) error {
		return &IDError{Kind: g.kind, Input: s, Problem: fmt.Sprintf(problem, args...)}
	}
	orWant := func(problem string) string {
		if g.want == "" {
			return problem
		}
		return problem + ": " + g.want
	}
	switch {
	case s == "":
		return fail("empty")
	case len(s) > maxIDLength:
		return fail("longer than %d bytes", maxIDLength)
	case s[0] != g.sigil:
		return fail("%s", orWant(fmt.Sprintf("must start with %q", string(g.sigil))))
	case strings.IndexFunc(s, badIDRune) >= 0:
		return fail("contains whitespace or a control character")
	}
	local, server, found := strings.Cut(s[1:], ":")
	switch {
	case !found:
		return fail("%s", orWant(fmt.Sprintf("missing ':' between the %s and the server name", g.localName)))
	case local == "":
		return fail("empty %s", g.localName)
	case server == "":
		return fail("empty server name")
	}
	return nil
}

// badIDRune rejects characters no identifier contains; they usually come from
// untrimmed input (CSV cells, copy-paste).
func badIDRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
