package csvsafe_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/mxinvite/mxinvite/internal/csvsafe"
)

func TestCellAndUnquote(t *testing.T) {
	for _, tc := range []struct{ in, written string }{
		{"=1+2@example.org", "'=1+2@example.org"},
		{"+44 20 7946 0958", "'+44 20 7946 0958"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\rcmd", "'\rcmd"},
		{"alice@example.org", "alice@example.org"},
		{"", ""},
		{"'quoted", "'quoted"},
		{"442079460958", "442079460958"},
	} {
		if got := csvsafe.Cell(tc.in); got != tc.written {
			t.Errorf("Cell(%q) = %q, want %q", tc.in, got, tc.written)
		}
		if got := csvsafe.Unquote(csvsafe.Cell(tc.in)); got != tc.in {
			t.Errorf("Unquote(Cell(%q)) = %q", tc.in, got)
		}
		if got := csvsafe.Cell(csvsafe.Cell(tc.in)); got != tc.written {
			t.Errorf("Cell twice on %q = %q, want %q", tc.in, got, tc.written)
		}
	}
	if got := csvsafe.Unquote("'"); got != "'" {
		t.Errorf("Unquote of a lone quote = %q", got)
	}
}

// Through encoding/csv, as the writers use it: no cell of the file starts
// with a formula character, and reading back gives the original cells.
func TestRecordThroughCSV(t *testing.T) {
	orig := []string{"=HYPERLINK(\"http://x\")", "+1", "ok", "@x"}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(csvsafe.Record(append([]string(nil), orig...))); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	got, err := csv.NewReader(&buf).Read()
	if err != nil {
		t.Fatal(err)
	}
	for i, cell := range got {
		if cell != "" && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@') {
			t.Errorf("cell %d written as %q: a spreadsheet would run it", i, cell)
		}
		if csvsafe.Unquote(cell) != orig[i] {
			t.Errorf("cell %d read back as %q, want %q", i, csvsafe.Unquote(cell), orig[i])
		}
	}
}
