package matrix

import (
	"errors"
	"strings"
	"testing"
)

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
		{roomID, "!:example.org", ErrInvalidRoomID, "empty opaque ID"},
		{roomID, "!abc:", ErrInvalidRoomID, "empty server name"},
		{roomID, "!abc:example.org ", ErrInvalidRoomID, "whitespace"},
		{roomID, "!" + strings.Repeat("a", 250) + ":example.org", ErrInvalidRoomID, "longer than 255"},
		{userID, "@bot:example.org", nil, ""},
		{userID, "bot:example.org", ErrInvalidUserID, `start with "@"`},
		{userID, "@:example.org", ErrInvalidUserID, "empty localpart"},
		{userID, "@bot", ErrInvalidUserID, "missing ':'"},
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
