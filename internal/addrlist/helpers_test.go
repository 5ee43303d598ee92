package addrlist_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

// listsDir holds the project's sample lists.
const listsDir = "../../testdata/lists"

// openList opens a sample list and closes it when the test ends.
func openList(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(filepath.Join(listsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// newReader is NewReader for inputs the test expects to be accepted.
func newReader(t *testing.T, r io.Reader, opts addrlist.Options) *addrlist.Reader {
	t.Helper()
	rd, err := addrlist.NewReader(r, opts)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return rd
}

// readAll returns every row, with Raw copied because Next reuses it.
func readAll(t *testing.T, rd *addrlist.Reader) []addrlist.Row {
	t.Helper()
	var rows []addrlist.Row
	for {
		row, err := rd.Next()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		row.Raw = slices.Clone(row.Raw)
		rows = append(rows, row)
	}
}

// readString reads all rows of an in-memory list.
func readString(t *testing.T, input string, opts addrlist.Options) []addrlist.Row {
	t.Helper()
	return readAll(t, newReader(t, strings.NewReader(input), opts))
}

// want describes an expected row: an address, or the kind and a substring
// of the reason of a reject.
type want struct {
	line    int
	address string
	kind    error
	reason  string
}

func checkRows(t *testing.T, rows []addrlist.Row, wants []want) {
	t.Helper()
	if len(rows) != len(wants) {
		for _, r := range rows {
			t.Logf("line %d: %q %q %v", r.Line, r.Raw, r.Address, r.Err)
		}
		t.Fatalf("got %d rows, want %d", len(rows), len(wants))
	}
	for i, w := range wants {
		row := rows[i]
		if row.Line != w.line {
			t.Errorf("row %d: line %d, want %d", i, row.Line, w.line)
		}
		if w.kind == nil {
			if row.Err != nil || row.Address != w.address {
				t.Errorf("line %d: got %q, %v; want %q", row.Line, row.Address, row.Err, w.address)
			}
			continue
		}
		if !errors.Is(row.Err, w.kind) || !strings.Contains(row.Err.Error(), w.reason) {
			t.Errorf("line %d: error %v, want %v containing %q", row.Line, row.Err, w.kind, w.reason)
		}
		if row.Address != "" {
			t.Errorf("line %d: a reject has address %q", row.Line, row.Address)
		}
	}
}
