package addrlist_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

// writeRejects reads input and returns its rejects as a RejectWriter writes them.
func writeRejects(t *testing.T, input string, opts addrlist.Options) string {
	t.Helper()
	rd := newReader(t, strings.NewReader(input), opts)
	var out bytes.Buffer
	rw := addrlist.NewRejectWriter(&out, rd)
	for {
		row, err := rd.Next()
		if err != nil {
			break
		}
		if row.Err != nil {
			if err := rw.Write(row); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestRejectWriterCSVReimports(t *testing.T) {
	input := "email;name;city\n" +
		"a@example.org;A;Berlin\n" +
		"b@example;B, the second;Rome\n" +
		";C;Paris\n" +
		"\"d@example.org;D\n" +
		"e@example.org;E;Oslo\n"
	rejects := writeRejects(t, input, addrlist.Options{Medium: tasks.MediumEmail})
	expected := "email;name;city;line;reason\n" +
		"b@example;B, the second;Rome;3;\"bad syntax: email domain must contain a \"\".\"\"\"\n" +
		";C;Paris;4;empty address\n" +
		"\"\"\"d@example.org\";D;;5;malformed record: unterminated quoted field\n"
	if rejects != expected {
		t.Fatalf("rejects:\n%s\nwant:\n%s", rejects, expected)
	}

	// The operator fixes two rows and imports the reject file again.
	fixed := strings.NewReplacer("b@example;", "b@example.com;", "\"\"\"d@example.org\"", "d@example.org").Replace(rejects)
	rows := readString(t, fixed, addrlist.Options{Medium: tasks.MediumEmail})
	checkRows(t, rows, []want{
		{line: 2, address: "b@example.com"},
		{line: 3, kind: addrlist.ErrEmpty, reason: "empty"},
		{line: 4, address: "d@example.org"},
	})

	// Rejecting again replaces the line and reason columns instead of adding more.
	again := writeRejects(t, fixed, addrlist.Options{Medium: tasks.MediumEmail})
	if expected := "email;name;city;line;reason\n;C;Paris;3;empty address\n"; again != expected {
		t.Errorf("second round of rejects:\n%s\nwant:\n%s", again, expected)
	}
}

func TestRejectWriterTSV(t *testing.T) {
	rejects := writeRejects(t, "Phone\tName\n12\tShort\n", addrlist.Options{})
	expected := "Phone\tName\tline\treason\n12\tShort\t2\tbad syntax: msisdn must have 8 to 15 digits (E.164), not 2\n"
	if rejects != expected {
		t.Errorf("rejects:\n%q\nwant:\n%q", rejects, expected)
	}
}

func TestRejectWriterLinesReimports(t *testing.T) {
	input := "# list\r\n" +
		"good@example.org\r\n" +
		"Bad Name <bad@example>\r\n" +
		"oops.example.org   # typo'd\r\n" +
		"\"Team #2\" <team2@EXAMPLE.org>\r\n"
	rejects := writeRejects(t, input, addrlist.Options{})
	expected := "Bad Name <bad@example>  # line 3: bad syntax: email domain must contain a \".\"\n" +
		"oops.example.org   # typo'd  # line 4: bad syntax: email must contain exactly one \"@\"\n"
	if rejects != expected {
		t.Fatalf("rejects:\n%s\nwant:\n%s", rejects, expected)
	}

	// Unfixed, the reject file gives the same rejects again: its comments are ignored.
	rows := readString(t, rejects, addrlist.Options{})
	checkRows(t, rows, []want{
		{line: 1, kind: addrlist.ErrBadSyntax, reason: `domain must contain a "."`},
		{line: 2, kind: addrlist.ErrBadSyntax, reason: `exactly one "@"`},
	})

	fixed := strings.NewReplacer("bad@example>", "bad@example.org>", "oops.example.org", "oops@example.org").Replace(rejects)
	rows = readString(t, fixed, addrlist.Options{})
	checkRows(t, rows, []want{
		{line: 1, address: "bad@example.org"},
		{line: 2, address: "oops@example.org"},
	})
}

func TestRejectWriterRefusesGoodRows(t *testing.T) {
	rd := newReader(t, strings.NewReader("a@example.org\n"), addrlist.Options{})
	row, _ := rd.Next()
	if err := addrlist.NewRejectWriter(&bytes.Buffer{}, rd).Write(row); err == nil {
		t.Error("Write accepted a row without Err")
	}
}

func TestRejectWriterWritesNothingWithoutRejects(t *testing.T) {
	if out := writeRejects(t, "email\na@example.org\n", addrlist.Options{}); out != "" {
		t.Errorf("output without rejects: %q", out)
	}
}

func TestRejectWriterKeepsCustomReasons(t *testing.T) {
	// The importer writes duplicates with a reason of its own.
	rd := newReader(t, strings.NewReader("email\na@example.org\n"), addrlist.Options{})
	row, _ := rd.Next()
	row.Err = errors.New("duplicate of line 7\nsecond line")
	var out bytes.Buffer
	rw := addrlist.NewRejectWriter(&out, rd)
	if err := rw.Write(row); err != nil {
		t.Fatal(err)
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	if expected := "email,line,reason\na@example.org,2,duplicate of line 7 second line\n"; out.String() != expected {
		t.Errorf("got %q, want %q", out.String(), expected)
	}
}

// Cells a spreadsheet would run as formulas are written with a leading "'",
// and read back as they were: a rejects file re-imports to the same rows.
func TestRejectWriterNeutralisesFormulas(t *testing.T) {
	input := "email,name,@note\n" +
		"=1+2@example,=HYPERLINK(\"http://evil\"),-x\n" +
		"+44 20 7946 0958,+me,\t\n"
	rejects := writeRejects(t, input, addrlist.Options{Medium: tasks.MediumEmail})
	for i, line := range strings.Split(strings.TrimSuffix(rejects, "\n"), "\n") {
		for _, cell := range strings.Split(line, ",") {
			cell = strings.TrimPrefix(cell, `"`)
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("rejects line %d: cell %q would run as a formula:\n%s", i+1, cell, rejects)
			}
		}
	}
	// The operator fixes the domain of the first row; the rest reads back as written.
	fixed := strings.Replace(rejects, "'=1+2@example,", "'=1+2@example.org,", 1)
	rows := readString(t, fixed, addrlist.Options{Medium: tasks.MediumEmail})
	checkRows(t, rows, []want{
		{line: 2, address: "=1+2@example.org"},
		{line: 3, kind: addrlist.ErrWrongMedium, reason: "looks like a phone number"},
	})
	if got := strings.Join(rows[1].Raw[:3], "|"); got != "+44 20 7946 0958|+me|\t" {
		t.Errorf("second reject's cells read back as %q", got)
	}
	if again := writeRejects(t, fixed, addrlist.Options{Medium: tasks.MediumEmail}); !strings.Contains(again, "'+44 20 7946 0958,'+me,'\t,3,") {
		t.Errorf("rejected again:\n%s", again)
	}
}
