package addrlist

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Why golang.org/x/text: it implements the WHATWG encodings, the ones
// browsers and spreadsheet exports use, by their usual labels ("latin1",
// "windows-1252", "utf-16le", …), and decodes UTF-16 as a stream.

// lookupEncoding returns the encoding named by an Options.Encoding label;
// nil for "" (detect) and for UTF-8, which needs no decoding.
func lookupEncoding(label string) (encoding.Encoding, error) {
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, fmt.Errorf("addrlist: encoding %q: unknown (want utf-8, utf-16le, utf-16be, windows-1252, latin1, …)", label)
	}
	if enc == encoding.Nop || enc == unicode.UTF8 {
		return nil, nil
	}
	return enc, nil
}

// decodedInput returns the input as UTF-8 and describes its encoding for
// the Plan. With no encoding given it looks at the first bytes: a UTF-16
// byte order mark, or the NUL byte of every other position that UTF-16
// gives ASCII text, says UTF-16; otherwise the input is read as UTF-8 with
// per-line fallback to Windows-1252 (perLine), so a Latin-1 export reads
// with its accented names intact and a UTF-8 one is never mangled.
func decodedInput(r io.Reader, label string) (src io.Reader, desc string, perLine bool, err error) {
	enc, err := lookupEncoding(label)
	if err != nil {
		return nil, "", false, err
	}
	br := bufio.NewReaderSize(r, textSniffBytes)
	if enc != nil {
		name, _ := htmlindex.Name(enc)
		return transform.NewReader(br, enc.NewDecoder()), name + " (--encoding)", false, nil
	}
	if label != "" {
		return br, "utf-8 (--encoding)", false, nil
	}
	head, _ := br.Peek(textSniffBytes)
	switch order := utf16Order(head); order {
	case "le", "le-bom", "be", "be-bom":
		endian := unicode.LittleEndian
		if strings.HasPrefix(order, "be") {
			endian = unicode.BigEndian
		}
		desc := "utf-16" + order[:2] + " (byte order mark)"
		if !strings.HasSuffix(order, "-bom") {
			desc = "utf-16" + order[:2] + " (detected)"
		}
		return transform.NewReader(br, unicode.UTF16(endian, unicode.UseBOM).NewDecoder()), desc, false, nil
	}
	if bytes.HasPrefix(head, []byte(utf8BOM)) {
		return br, "utf-8 (byte order mark)", true, nil
	}
	return br, "utf-8", true, nil
}

// utf16Order tells UTF-16 input by its byte order mark, or by the pattern
// of NUL bytes that ASCII characters in UTF-16 make (text in any other
// encoding holds no NULs). "" means not UTF-16.
func utf16Order(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "le-bom"
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "be-bom"
	case len(head) < 4:
		return ""
	}
	var even, odd int // NULs at even and odd offsets
	n := len(head) &^ 1
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*4 >= pairs*3 && even == 0:
		return "le"
	case even*4 >= pairs*3 && odd == 0:
		return "be"
	}
	return ""
}

// windows1252 decodes a line that is not valid UTF-8.
var windows1252 = charmap.Windows1252

// fromWindows1252 returns line decoded from Windows-1252 into UTF-8.
func fromWindows1252(line []byte) []byte {
	out, err := windows1252.NewDecoder().Bytes(line)
	if err != nil {
		return line // cannot happen: every byte has a mapping
	}
	return out
}
