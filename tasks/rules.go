package tasks

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on the free-form fields, so that a payload stays small and a
// typo'd flag cannot smuggle a whole file into Redis.
const (
	maxCampaignRunes = 200
	maxRoomIDBytes   = 255 // the Matrix spec's limit on identifiers
	maxHostnameBytes = 253
)

// The field rules below return "" when the value is fine and otherwise a
// reason that reads well after the quoted value (see FieldError.Error).

func campaignProblem(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if utf8.RuneCountInString(s) > maxCampaignRunes {
		return fmt.Sprintf("must be at most %d characters", maxCampaignRunes)
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) {
			return fmt.Sprintf("must not contain control or invisible characters (found %U)", r)
		}
	}
	return ""
}

// roomIDForms names the room ID forms roomIDProblem accepts.
const roomIDForms = `must be a room ID: "!opaque:server" (room versions 1-11) or "!" followed by 43 URL-safe base64 characters (room version 12)`

// roomIDProblem accepts both forms of room ID: the legacy "!opaque:server"
// (spec regex ^![^:\x00]+:[^\x00]+$) and room version 12's
// ^![A-Za-z0-9_-]{43}$, at most 255 bytes. A room ID is opaque: the server
// part of a legacy ID is not parsed (the homeserver is the authority) and
// nothing here or later derives a server name from it.
func roomIDProblem(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if len(s) > maxRoomIDBytes {
		return fmt.Sprintf("must be at most %d bytes", maxRoomIDBytes)
	}
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			return "must not contain whitespace or control characters"
		}
	}
	if isHashRoomID(s) {
		return ""
	}
	colon := strings.IndexByte(s, ':')
	if s[0] != '!' || colon < 0 {
		return roomIDForms
	}
	if colon == 1 || colon == len(s)-1 {
		return `must have a non-empty opaque part and server name, as in "!abc:example.org"`
	}
	return ""
}

// hashRoomIDLength is the length of a room version 12 ID: "!" and 43
// characters of unpadded URL-safe base64 (MSC4291).
const hashRoomIDLength = 1 + 43

// isHashRoomID reports whether s is a room version 12 ID.
func isHashRoomID(s string) bool {
	if len(s) != hashRoomIDLength || s[0] != '!' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidateRoomID checks a room ID by the rules Invite.Validate applies, for
// callers that store one before any invite exists (recurring campaigns).
// The error is a *FieldError for "room_id".
func ValidateRoomID(s string) error {
	if reason := roomIDProblem(s); reason != "" {
		return fieldError("room_id", s, reason)
	}
	return nil
}

// idServerProblem checks an identity server given as hostname[:port]: the
// worker adds the scheme and path, so anything URL-like is a mistake.
func idServerProblem(s string) string {
	if s == "" {
		return ""
	}
	switch {
	case strings.Contains(s, "://"):
		return "must be hostname[:port] without a scheme"
	case strings.ContainsAny(s, "/?#"):
		return "must be hostname[:port] without a path"
	case strings.IndexByte(s, '@') >= 0:
		return `must be hostname[:port] without "@"`
	}
	host, port := s, ""
	if strings.HasPrefix(s, "[") { // IPv6 literal: [::1]:8090
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return `has an unterminated "[" IPv6 literal`
		}
		host, port = s[1:end], s[end+1:]
		if addr, err := netip.ParseAddr(host); err != nil || !addr.Is6() || addr.Zone() != "" {
			return "must hold an IPv6 address inside [...]"
		}
		if port != "" && port[0] != ':' {
			return `must be [ipv6]:port`
		}
		port = strings.TrimPrefix(port, ":")
		if port == "" && strings.HasSuffix(s, ":") {
			return "must not have an empty port"
		}
	} else {
		if colon := strings.IndexByte(s, ':'); colon >= 0 {
			host, port = s[:colon], s[colon+1:]
			if port == "" {
				return "must not have an empty port"
			}
		}
		if len(host) > maxHostnameBytes {
			return fmt.Sprintf("hostname must be at most %d bytes", maxHostnameBytes)
		}
		for label := range strings.SplitSeq(host, ".") {
			if reason := labelProblem(label, false); reason != "" {
				return "hostname " + reason
			}
		}
	}
	if port != "" {
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return "port must be a number from 1 to 65535"
		}
	}
	return ""
}

// senderProblem checks a sender profile name. The charset keeps names safe to
// use in config keys, metrics labels and log lines.
func senderProblem(s string) string {
	if s == "" {
		return "must not be empty"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return "must be a profile name of letters, digits, '.', '_' and '-'"
		}
	}
	return ""
}

// enqueuedAtProblem insists on a real timestamp that JSON can carry: a UTC
// year outside 1..9999 would fail to marshal.
func enqueuedAtProblem(t time.Time) string {
	if t.IsZero() {
		return "must be set"
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return "must be a year from 1 to 9999"
	}
	return ""
}

func quote(s string) string { return strconv.Quote(truncateRunes(s, maxErrorValueRunes)) }
