package addrlist_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

func TestGoodBadDupsCSV(t *testing.T) {
	rd := newReader(t, openList(t, "good_bad_dups.csv"), addrlist.Options{Medium: tasks.MediumEmail})
	if rd.Format() != addrlist.FormatCSV {
		t.Errorf("Format() = %q", rd.Format())
	}
	if got := strings.Join(rd.Header(), ","); got != "email,name,city" {
		t.Errorf("Header() = %q", got)
	}
	rows := readAll(t, rd)
	checkRows(t, rows, []want{
		{line: 2, address: "alice@example.org"},
		{line: 3, address: "bob.builder@example.com"},
		{line: 4, address: "carol+news@mail.example.co.uk"},
		{line: 5, address: "dave@example.net"},
		{line: 6, address: "erin@sub.example.org"},
		{line: 7, kind: addrlist.ErrBadSyntax, reason: `bad syntax: email must contain exactly one "@"`},
		{line: 8, address: "frank@example.org"},
		{line: 9, address: "alice@example.org"}, // a duplicate: the importer's business
		{line: 10, address: "grace@example.io"},
		{line: 11, kind: addrlist.ErrEmpty, reason: "empty address"},
		{line: 12, address: "heidi@xn--bcher-kva.example"},
		{line: 13, address: "ivan@example.org"},
		{line: 14, kind: addrlist.ErrWrongMedium, reason: "wrong medium: looks like a phone number (msisdn), want email"},
		{line: 15, address: "judy@example.org"},
		{line: 16, address: "bob.builder@example.com"}, // the same as line 3 once normalised
	})
	valid := 0
	for _, row := range rows {
		if row.Err == nil {
			valid++
			if row.Medium != tasks.MediumEmail {
				t.Errorf("line %d: medium %q", row.Line, row.Medium)
			}
		}
	}
	if valid != 12 || len(rows)-valid != 3 {
		t.Errorf("%d valid and %d rejects, want 12 and 3", valid, len(rows)-valid)
	}
	if got := rows[11].Raw; len(got) != 3 || got[1] != `Ivan "The Terrible"` {
		t.Errorf("Raw of line 13 = %q", got)
	}
}

func TestGoodBadDupsCSVInfersMedium(t *testing.T) {
	rows := readAll(t, newReader(t, openList(t, "good_bad_dups.csv"), addrlist.Options{}))
	if row := rows[12]; row.Err != nil || row.Medium != tasks.MediumMSISDN || row.Address != "442079460958" {
		t.Errorf("without a fixed medium the phone row is valid; got %+v", row)
	}
}

func TestMailmanList(t *testing.T) {
	rd := newReader(t, openList(t, "mailman.txt"), addrlist.Options{})
	if rd.Format() != addrlist.FormatLines || rd.Header() != nil {
		t.Errorf("Format() = %q, Header() = %q", rd.Format(), rd.Header())
	}
	rows := readAll(t, rd)
	checkRows(t, rows, []want{
		{line: 4, address: "alice@example.org"},
		{line: 5, address: "bob.builder@example.com"},
		{line: 6, address: "first.last@example.net"},
		{line: 7, address: "carol@example.org"},
		{line: 8, address: "dave@example.org"},
		{line: 10, address: "team1@example.org"},
		{line: 11, address: "frank#sales@example.org"},
		{line: 12, kind: addrlist.ErrBadSyntax, reason: `email must contain exactly one "@"`},
		{line: 14, address: "442079460958"},
	})
	if raw := rows[4].Raw; len(raw) != 1 || raw[0] != "dave@example.org   # moved from the old list" {
		t.Errorf("Raw = %q, want the line without CRLF", raw)
	}
}

func TestPlainListForms(t *testing.T) {
	input := "Alice Example <Alice@Example.ORG>\n" +
		"Smith, John <john@example.org>\n" + // unquoted comma: net/mail refuses, the <...> is still clear
		"<bare@example.org>\n" +
		"x@example.org (Comment (nested))\n" +
		"a#b@example.org # a comment\n" +
		"broken@example.org (unclosed\n" +
		"Nobody <>\n" +
		"  spaced@example.org  \t\n"
	checkRows(t, readString(t, input, addrlist.Options{Format: addrlist.FormatLines}), []want{
		{line: 1, address: "alice@example.org"},
		{line: 2, address: "john@example.org"},
		{line: 3, address: "bare@example.org"},
		{line: 4, address: "x@example.org"},
		{line: 5, address: "a#b@example.org"},
		{line: 6, kind: addrlist.ErrBadSyntax, reason: "cannot extract an address"},
		{line: 7, kind: addrlist.ErrBadSyntax, reason: "not a display-name form"},
		{line: 8, address: "spaced@example.org"},
	})
}

func TestTSV(t *testing.T) {
	rd := newReader(t, openList(t, "contacts.tsv"), addrlist.Options{})
	if rd.Format() != addrlist.FormatTSV {
		t.Errorf("Format() = %q", rd.Format())
	}
	checkRows(t, readAll(t, rd), []want{
		{line: 2, address: "alice@example.org"}, // E-Mail wins over Phone
		{line: 3, address: "bob@example.org"},
		{line: 4, kind: addrlist.ErrBadSyntax, reason: `domain must contain a "."`},
		{line: 5, address: "dave@example.net"},
	})
}

func TestPhonesCSV(t *testing.T) {
	rd := newReader(t, openList(t, "phones.csv"), addrlist.Options{Medium: tasks.MediumMSISDN})
	if rd.Format() != addrlist.FormatCSV {
		t.Errorf("Format() = %q", rd.Format())
	}
	rows := readAll(t, rd)
	checkRows(t, rows, []want{
		{line: 2, address: "442079460958"},
		{line: 3, address: "442079460959"},
		{line: 4, address: "12025550143"},
		{line: 5, kind: addrlist.ErrBadSyntax, reason: "msisdn \"020 7946 0958\" is in national form: give --region"},
		{line: 6, address: "4930901820"},
		{line: 7, kind: addrlist.ErrWrongMedium, reason: "looks like an email address, want msisdn"},
	})
	if got := rows[2].Raw[2]; got != "US; DC" {
		t.Errorf("quoted field with the delimiter: %q", got)
	}
}

func TestColumnOption(t *testing.T) {
	rd := newReader(t, openList(t, "contacts.tsv"), addrlist.Options{Column: " phone "})
	rows := readAll(t, rd)
	if rows[0].Address != "442079460958" || !errors.Is(rows[1].Err, addrlist.ErrEmpty) {
		t.Errorf("phone column: %+v, %+v", rows[0], rows[1])
	}

	_, err := addrlist.NewReader(openList(t, "contacts.tsv"), addrlist.Options{Column: "Mobile Number"})
	if err == nil || !strings.Contains(err.Error(), `"Mobile Number"`) || !strings.Contains(err.Error(), `"E-Mail"`) {
		t.Errorf("absent column: error %v, want one naming the column and the headers found", err)
	}

	// A plain list has no such column either.
	_, err = addrlist.NewReader(openList(t, "mailman.txt"), addrlist.Options{Column: "email"})
	if err == nil || !strings.Contains(err.Error(), `"email"`) {
		t.Errorf("plain list with a column: error %v", err)
	}
}

func TestForcedFormats(t *testing.T) {
	_, err := addrlist.NewReader(strings.NewReader("who,what\nx@example.org,1\n"), addrlist.Options{Format: addrlist.FormatCSV})
	if err == nil || !strings.Contains(err.Error(), `["who" "what"]`) {
		t.Errorf("forced csv without an address column: %v", err)
	}
	rows := readString(t, "mail\tx\na@example.org\t1\n", addrlist.Options{Format: addrlist.FormatTSV})
	checkRows(t, rows, []want{{line: 2, address: "a@example.org"}})

	// Forced lines: a header-looking first line is data (and a reject).
	rows = readString(t, "email\na@example.org\n", addrlist.Options{Format: addrlist.FormatLines})
	checkRows(t, rows, []want{{line: 1, kind: addrlist.ErrBadSyntax, reason: "@"}, {line: 2, address: "a@example.org"}})

	for _, opts := range []addrlist.Options{
		{Format: "xlsx"},
		{Format: addrlist.FormatLines, Column: "email"},
		{Medium: "fax"},
	} {
		if _, err := addrlist.NewReader(strings.NewReader(""), opts); err == nil {
			t.Errorf("NewReader accepted %+v", opts)
		}
	}
}

func TestFormatDetection(t *testing.T) {
	tests := []struct {
		name, input, format string
	}{
		{name: "one-column csv", input: "Email\na@example.org\n", format: addrlist.FormatCSV},
		{name: "semicolons", input: "name;e-mail\nA;a@example.org\n", format: addrlist.FormatCSV},
		{name: "tabs", input: "msisdn\tname\n+4930901820\tA\n", format: addrlist.FormatTSV},
		{name: "quoted header", input: "\"Name\",\"Email\"\nA,a@example.org\n", format: addrlist.FormatCSV},
		{name: "comma but no known column", input: "\"Doe, Jane\" <jane@example.org>\n", format: addrlist.FormatLines},
		{name: "comment first", input: "# email,name\na@example.org\n", format: addrlist.FormatLines},
		{name: "blank lines before the header", input: "\n\n  \nemail\na@example.org\n", format: addrlist.FormatCSV},
		{name: "empty", input: "", format: addrlist.FormatLines},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd := newReader(t, strings.NewReader(tt.input), addrlist.Options{})
			if rd.Format() != tt.format {
				t.Errorf("Format() = %q, want %q", rd.Format(), tt.format)
			}
			rows := readAll(t, rd)
			for _, row := range rows {
				if row.Err != nil {
					t.Errorf("line %d: %v", row.Line, row.Err)
				}
			}
		})
	}
}

func TestByteOrderMark(t *testing.T) {
	rd := newReader(t, strings.NewReader("\uFEFFemail,name\r\na@example.org,A\r\n"), addrlist.Options{})
	if rd.Format() != addrlist.FormatCSV || rd.Header()[0] != "email" {
		t.Fatalf("BOM not stripped: format %q, header %q", rd.Format(), rd.Header())
	}
	checkRows(t, readAll(t, rd), []want{{line: 2, address: "a@example.org"}})

	rows := readString(t, "\uFEFFa@example.org\nb@example.org\n", addrlist.Options{})
	checkRows(t, rows, []want{{line: 1, address: "a@example.org"}, {line: 2, address: "b@example.org"}})
}

func TestMalformedQuotedRecordInTheMiddle(t *testing.T) {
	input := "email,name\n" +
		"a@example.org,A\n" +
		"\"b@example.org,B\n" + // unterminated quote
		"c@example.org,C\n" +
		"d@example.org,\"D \"\"quoted\"\"\"\n" +
		"e@example.org,\"E\n" + // unterminated quote in another column
		"f@example.org,F\n" +
		"g@example.org,G \"the\" junk\n" + // quotes inside an unquoted field are data (LazyQuotes)
		"h@example.org,\"H\"junk\n" + // encoding/csv reads on for the closing quote: unterminated
		"i@example.org,I\n"
	rows := readString(t, input, addrlist.Options{})
	checkRows(t, rows, []want{
		{line: 2, address: "a@example.org"},
		{line: 3, kind: addrlist.ErrMalformedRecord, reason: "unterminated quoted field"},
		{line: 4, address: "c@example.org"},
		{line: 5, address: "d@example.org"},
		{line: 6, kind: addrlist.ErrMalformedRecord, reason: "unterminated quoted field"},
		{line: 7, address: "f@example.org"},
		{line: 8, address: "g@example.org"},
		{line: 9, kind: addrlist.ErrMalformedRecord, reason: "unterminated quoted field"},
		{line: 10, address: "i@example.org"},
	})
	if raw := rows[1].Raw; len(raw) != 2 || raw[0] != `"b@example.org` {
		t.Errorf("malformed Raw = %q, want the line split at commas", raw)
	}
}

func TestMultiLineQuotedField(t *testing.T) {
	input := "email,notes\n" +
		"a@example.org,\"first line\n" +
		"second line\n" +
		"third, with a comma\"\n" +
		"b@example.org,B\n" +
		"c@example.org,\"never closed\n" +
		"still notes\n"
	rows := readString(t, input, addrlist.Options{})
	checkRows(t, rows, []want{
		{line: 2, address: "a@example.org"},
		{line: 5, address: "b@example.org"},
		{line: 6, kind: addrlist.ErrMalformedRecord, reason: "unterminated"},
		{line: 7, kind: addrlist.ErrBadSyntax, reason: "email"}, // given back as a record of its own
	})
	if got := rows[0].Raw[1]; got != "first line\nsecond line\nthird, with a comma" {
		t.Errorf("multi-line field = %q", got)
	}
}

func TestQuoteOpenTooLong(t *testing.T) {
	var b strings.Builder
	b.WriteString("email,notes\na@example.org,\"open\n")
	for range 40 {
		b.WriteString("note line\n")
	}
	b.WriteString("z@example.org,Z\n")
	rows := readString(t, b.String(), addrlist.Options{})
	if !errors.Is(rows[0].Err, addrlist.ErrMalformedRecord) || rows[0].Line != 2 {
		t.Errorf("first row = %+v, want a malformed record on line 2", rows[0])
	}
	if last := rows[len(rows)-1]; last.Address != "z@example.org" || last.Line != 43 {
		t.Errorf("last row = %+v", last)
	}
}

func TestBlankRecordsAreSkipped(t *testing.T) {
	rows := readString(t, "email,name\n\n,,\n  ,\t\na@example.org,A\n,,,\n", addrlist.Options{})
	checkRows(t, rows, []want{{line: 5, address: "a@example.org"}})
}

func TestLineTooLong(t *testing.T) {
	long := strings.Repeat("x", 70_000)
	for _, tt := range []struct{ name, header string }{{"csv", "email,name\n"}, {"lines", ""}} {
		t.Run(tt.name, func(t *testing.T) {
			input := tt.header + "a@example.org\n" + long + "@example.org\nb@example.org\n" + long
			rows := readString(t, input, addrlist.Options{})
			first := 1
			if tt.header != "" {
				first = 2
			}
			checkRows(t, rows, []want{
				{line: first, address: "a@example.org"},
				{line: first + 1, kind: addrlist.ErrMalformedRecord, reason: "longer than 64 KiB"},
				{line: first + 2, address: "b@example.org"},
				{line: first + 3, kind: addrlist.ErrMalformedRecord, reason: "longer than 64 KiB"},
			})
		})
	}
}

func TestIOErrorIsReturned(t *testing.T) {
	boom := errors.New("disk on fire")
	input := io.MultiReader(strings.NewReader("email\na@example.org\n"), iotest.ErrReader(boom))
	rd := newReader(t, input, addrlist.Options{})
	if row, err := rd.Next(); err != nil || row.Address != "a@example.org" {
		t.Fatalf("first row: %+v, %v", row, err)
	}
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() error = %v, want %v", err, boom)
	}
	if _, err := rd.Next(); !errors.Is(err, boom) {
		t.Errorf("the error is not sticky: %v", err)
	}
}
