package addrlist_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

func TestNotTextIsRefused(t *testing.T) {
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.IntN(255) + 1) // no NUL: the UTF-8 check must catch it
	}
	for name, tc := range map[string]struct {
		input  []byte
		reason string
	}{
		"NUL bytes": {append([]byte("email\nalice@example.org\n"), 0, 1, 2), "NUL bytes"},
		"random":    {random, "control characters, not text"},
		"xlsx":      {append([]byte("PK\x03\x04"), random[:100]...), "ZIP archive"},
		"PNG":       {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "NUL bytes"},
		"controls":  {bytes.Repeat([]byte{0x1b, 0x01, 'a'}, 50), "control characters, not text"},
	} {
		_, err := addrlist.NewReader(bytes.NewReader(tc.input), addrlist.Options{})
		if !errors.Is(err, addrlist.ErrNotText) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: NewReader error %v, want ErrNotText saying %q", name, err, tc.reason)
		}
	}
}

// Text that is mostly fine is read, bad cells becoming rejects: a Latin-1
// export with accented names, a UTF-8 file cut in the middle of a character
// at the sniffing limit.
func TestMostlyTextIsRead(t *testing.T) {
	latin1 := "name,email\nJ\xfcrgen M\xfcller,juergen@example.org\nRen\xe9e,renee@example.org\n"
	rows := readString(t, latin1, addrlist.Options{})
	if len(rows) != 2 || rows[0].Err != nil || rows[1].Address != "renee@example.org" {
		t.Errorf("Latin-1 list: %+v", rows)
	}
	long := "email\nx" + strings.Repeat("ü", 600) + "\nalice@example.org\n" // a 2-byte rune cut at 1 KiB
	rows = readString(t, long, addrlist.Options{})
	if len(rows) != 2 || rows[1].Address != "alice@example.org" {
		t.Errorf("UTF-8 list: %d rows", len(rows))
	}
}
