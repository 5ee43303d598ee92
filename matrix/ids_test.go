package matrix

import (
	"errors"
	"strings"
	"testing"
)

// v12Room is a room version 12 ID (the one of issue 10).
const v12Room = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"

func TestParseIDs(t *testing.T) {
	type parser func(string) error
	roomID := func(s string) error { _, err := ParseRoomID(s); return err }
	userID := func(s string) error { _, err := ParseUserID(s); return err }
	alias := func(s string) error { _, err := ParseRoomAlias(s); return err }
	tests := []struct {
		parse   parser
		input   string
		kind    error // nil = valid
		problem string
	}{
		{roomID, "!abc:example.org", nil, ""},
		{roomID, "!abc:example.org:8448", nil, ""},
		{roomID, "", ErrInvalidRoomID, "empty"},
		{roomID, "#abc:example.org", ErrInvalidRoomID, `start with "!"`},
		{roomID, "!abcexample.org", ErrInvalidRoomID, "missing ':'"},
		{roomID, "!abcexample.org", ErrInvalidRoomID, "room version 12"},
		{roomID, "#abc:example.org", ErrInvalidRoomID, "43 URL-safe base64"},
		// Room version 12: "!" and 43 URL-safe base64 characters.
		{roomID, v12Room, nil, ""},
		{roomID, "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ", nil, ""}, // the spec's example
		{roomID, "!" + strings.Repeat("_", 43), nil, ""},
		{roomID, v12Room[:43], ErrInvalidRoomID, "missing ':'"},                                       // 42 characters
		{roomID, v12Room + "A", ErrInvalidRoomID, "missing ':'"},                                      // 44 characters
		{roomID, "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og+M", ErrInvalidRoomID, "room version 12"}, // standard base64 '+'
		{roomID, "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og/M", ErrInvalidRoomID, "room version 12"},
		{roomID, "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL=", ErrInvalidRoomID, "room version 12"}, // padding
		{roomID, "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogL ", ErrInvalidRoomID, "whitespace"},
		{roomID, v12Room[1:] + "!", ErrInvalidRoomID, `start with "!"`},
		{roomID, "$31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM", ErrInvalidRoomID, `start with "!"`},
		// Legacy IDs whose opaque part looks like a hash are still legacy IDs.
		{roomID, v12Room + ":example.org", nil, ""},
		{roomID, "!" + strings.Repeat("a", 248) + ":e.org", nil, ""}, // 255 bytes
		{roomID, "!" + strings.Repeat("a", 249) + ":e.org", ErrInvalidRoomID, "longer than 255"},
		{roomID, "!:example.org", ErrInvalidRoomID, "empty opaque ID"},
		{roomID, "!abc:", ErrInvalidRoomID, "empty server name"},
		{roomID, "!abc:example.org ", ErrInvalidRoomID, "whitespace"},
		{roomID, "!" + strings.Repeat("a", 250) + ":example.org", ErrInvalidRoomID, "longer than 255"},
		{userID, "@bot:example.org", nil, ""},
		{userID, "bot:example.org", ErrInvalidUserID, `start with "@"`},
		{userID, "@:example.org", ErrInvalidUserID, "empty localpart"},
		{userID, "@bot", ErrInvalidUserID, "missing ':'"},
		{userID, "bot", ErrInvalidUserID, `must start with "@"`},
		{alias, "#room:example.org", nil, ""},
		{alias, "!room:example.org", ErrInvalidRoomAlias, `start with "#"`},
		{alias, "#:example.org", ErrInvalidRoomAlias, "empty alias name"},
		{alias, "#room:", ErrInvalidRoomAlias, "empty server name"},
	}
	for _, tt := range tests {
		err := tt.parse(tt.input)
		if tt.kind == nil {
			if err != nil {
				t.Errorf("%q: %v", tt.input, err)
			}
			continue
		}
		var idErr *IDError
		if !errors.Is(err, tt.kind) || !errors.As(err, &idErr) || !strings.Contains(idErr.Problem, tt.problem) {
			t.Errorf("%q: err = %v, want %v about %q", tt.input, err, tt.kind, tt.problem)
		}
	}
}

// TestUserAndAliasErrorsDoNotMentionRoomForms keeps the room ID forms out of
// the other identifiers' messages.
func TestUserAndAliasErrorsDoNotMentionRoomForms(t *testing.T) {
	for _, err := range []error{
		func() error { _, err := ParseUserID("@bot"); return err }(),
		func() error { _, err := ParseRoomAlias("room"); return err }(),
	} {
		if err == nil || strings.Contains(err.Error(), "room version") {
			t.Errorf("err = %v", err)
		}
	}
}
