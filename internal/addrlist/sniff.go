package addrlist

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mxinvite/mxinvite/tasks"
)

// addressColumns are the header names searched for the address column when
// Options.Column is empty, most specific first: with both "email" and
// "phone" columns, email wins. Names are compared by columnKey, so
// "E-Mail" and "Phone Number" match too.
var addressColumns = [...]string{"email", "mail", "email_address", "address", "phone", "msisdn", "phone_number", "mobile",
	"mobile_number", "telephone", "tel", "cell"}

// phoneColumns are the address-column names that say the list holds phone
// numbers: with Options.MediumFromList they make it an msisdn list.
var phoneColumns = [...]string{"phone", "msisdn", "phone_number", "mobile", "mobile_number", "mobile_phone",
	"telephone", "telephone_number", "tel", "cell", "cell_phone", "cellphone"}

// mediumColumn is the header name of a column giving each row's medium, as
// results CSVs (internal/report) have.
const mediumColumn = "medium"

// readHeader decides from the first non-blank line whether the input is a
// CSV/TSV file or a plain list, and for CSV/TSV parses the header and finds
// the address column.
//
// A header is a line one of whose fields names the address column. Plain
// lists are recognised by not having one, so a one-column CSV ("email" then
// one address per line) is read as CSV too.
func (r *Reader) readHeader(first physicalLine) error {
	if first.truncated {
		if r.opts.Format == "" {
			r.useLines(first)
			return nil
		}
		return fmt.Errorf("addrlist: the header line is longer than %d bytes", maxLineBytes)
	}
	if r.opts.Format == "" && isVCardLine(first.text, vcardBegin) {
		r.format = FormatVCard
		r.src.unread(first.own())
		r.chooseMedium()
		return nil
	}
	r.delim = sniffDelimiter(first.text, r.opts.Format)
	r.fields = newFieldSplitter(r.delim)
	fields, _ := r.fields.split(first.text)
	header := slices.Clone(fields)
	if r.opts.Column == "" {
		if name, email, phone, ok := findExport(header); ok {
			r.useExport(header, name, email, phone)
			return nil
		}
	}
	column := findColumn(header, r.opts.Column)
	switch {
	case column >= 0:
		r.useCSV(header)
		r.column = column
		r.chooseMedium()
		return nil
	case r.opts.Column != "":
		return fmt.Errorf("addrlist: column %q not found in header %q", r.opts.Column, header)
	}
	if email, phone := findLabelled(header); len(email) > 0 {
		r.useExport(header, labelledContacts, email, phone)
		return nil
	}
	if r.opts.Format != "" {
		return fmt.Errorf("addrlist: no address column in header %q: set the column name, or name it one of %s",
			header, strings.Join(addressColumns[:], ", "))
	}
	r.useLines(first)
	r.chooseMedium()
	return nil
}

// useCSV sets the format from the delimiter and keeps the header.
func (r *Reader) useCSV(header []string) {
	r.header = header
	r.format = FormatCSV
	if r.delim == '\t' {
		r.format = FormatTSV
	}
}

// useExport reads the input as the export named (see exports.go): one
// person per row, from the email and phone columns given.
func (r *Reader) useExport(header []string, name string, email, phone []int) {
	r.useCSV(header)
	r.export, r.emailCols, r.phoneCols = name, email, phone
	r.chooseMedium()
}

// chooseMedium decides, once the format and header are known, which medium
// rows are checked against: Options.Medium if set; with MediumFromList,
// msisdn for a phone-like address column and email otherwise (a contacts
// export or vCard file is an email list: a phone campaign says so with
// Options.Medium); else none (inferred per row). Unless Options.Medium is
// set, a "medium" column gives each row's own medium.
func (r *Reader) chooseMedium() {
	r.medium, r.mediumCol = r.opts.Medium, -1
	if r.opts.Medium != "" {
		return
	}
	if r.header != nil && r.export == "" {
		r.mediumCol = indexFold(r.header, mediumColumn)
	}
	if !r.opts.MediumFromList {
		return
	}
	r.medium = tasks.MediumEmail
	if r.header != nil && r.column >= 0 && isPhoneColumn(r.header[r.column]) {
		r.medium = tasks.MediumMSISDN
	}
}

// isPhoneColumn reports whether a column's name says it holds phone numbers.
func isPhoneColumn(name string) bool {
	for _, p := range phoneColumns {
		if columnKey(name) == columnKey(p) {
			return true
		}
	}
	return false
}

// useLines switches the reader to plain-list mode, keeping the line that was
// read to sniff the format as the first line of data.
func (r *Reader) useLines(first physicalLine) {
	r.format = FormatLines
	r.delim, r.fields = 0, nil
	r.src.unread(first.own())
}

// sniffDelimiter picks the delimiter a header line uses most, preferring
// tab, then comma, then semicolon (European spreadsheet exports) on ties.
// A line without any is a one-column file: comma.
func sniffDelimiter(line []byte, format string) byte {
	if format == FormatTSV {
		return '\t'
	}
	best, bestCount := byte(','), 0
	for _, delim := range []byte{'\t', ',', ';'} {
		if delim == '\t' && format == FormatCSV {
			continue
		}
		if n := bytes.Count(line, []byte{delim}); n > bestCount {
			best, bestCount = delim, n
		}
	}
	return best
}

// findColumn returns the index of the address column in header, or -1.
func findColumn(header []string, want string) int {
	if want = strings.TrimSpace(want); want != "" {
		return indexFold(header, want)
	}
	for _, name := range addressColumns {
		if i := indexFold(header, name); i >= 0 {
			return i
		}
	}
	return -1
}

// indexFold returns the index of the first header equal to name as
// columnKey compares them, or -1.
func indexFold(header []string, name string) int {
	want := columnKey(name)
	for i, h := range header {
		if columnKey(h) == want {
			return i
		}
	}
	return -1
}

// columnKey is a header name as compared: lower-cased, without surrounding
// spaces, and with spaces, '-' and '_' inside dropped ("E-Mail" = "email",
// "Phone Number" = "phone_number").
func columnKey(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '_':
			return -1
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(name))
}

// ErrNotText is wrapped by NewReader's error for input that is not a text
// file at all (a spreadsheet workbook, an archive, an image): reading it
// row by row would only produce a reject per line of garbage.
var ErrNotText = errors.New("not a text file")

// textSniffBytes is how much of the input is looked at to tell its
// encoding, and text from binary data.
const textSniffBytes = 1024

// notText explains why head, the start of the input decoded to UTF-8 where
// it could be (see decodedInput), is not text, or returns "". Text never
// holds NUL bytes; binary formats almost always do. Without NULs, the input
// is refused when more than 1 in 20 of its bytes are control characters or
// bytes Windows-1252 leaves undefined: text has next to none, random bytes
// one in eight.
func notText(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "it is a ZIP archive, perhaps an .xlsx or .ods workbook (export it as CSV)"
	case bytes.IndexByte(head, 0) >= 0:
		return "it holds NUL bytes (binary data)"
	}
	bad := 0
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			switch head[i] {
			case 0x81, 0x8D, 0x8F, 0x90, 0x9D: // undefined in Windows-1252
				bad++
			}
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f', r == 0x7F:
			bad++
		}
		i += size
	}
	if bad*20 > len(head) {
		return fmt.Sprintf("%d of its first %d bytes are control characters, not text", bad, len(head))
	}
	return ""
}
