package addrlist_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

// fuzzSeedDir holds the project's shared seed lists. Go only looks in the
// package's own testdata/fuzz, so the seeds are added by hand.
const fuzzSeedDir = "../../testdata/fuzz/FuzzReader"

// FuzzReader feeds arbitrary input through the reader (and rejects through
// the reject writer) with options chosen by mode. Every row must be either a
// reject or an address that tasks accepts unchanged.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"email,name\na@example.org,A\n\"b@example.org,B\nc@example.org,C\n",
		"Phone\tName\n+44 20 7946 0958\tA\n",
		"Alice <a@example.org>\r\n# comment\r\nb@example.org (B)\r\n",
		"\uFEFFmail;x\n\"q\"\"@example.org\";\"a\nb\"\n",
		"e-mail\n\"\n\"\n\"\n",
	} {
		f.Add([]byte(seed), byte(0))
	}
	files, err := filepath.Glob(filepath.Join(fuzzSeedDir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed lists in %s (%v)", fuzzSeedDir, err)
	}
	for i, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, byte(i))
	}

	formats := []string{"", addrlist.FormatCSV, addrlist.FormatTSV, addrlist.FormatLines}
	media := []tasks.Medium{"", tasks.MediumEmail, tasks.MediumMSISDN}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		opts := addrlist.Options{
			Format: formats[int(mode)%len(formats)],
			Medium: media[int(mode/4)%len(media)],
		}
		rd, err := addrlist.NewReader(bytes.NewReader(data), opts)
		if err != nil {
			return // e.g. forced csv without an address column
		}
		rw := addrlist.NewRejectWriter(io.Discard, rd)
		lastLine := 0
		for range len(data) + 2 { // every row consumes a line or a separator
			row, err := rd.Next()
			if err == io.EOF {
				if err := rw.Flush(); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Next: %v (only I/O errors are returned)", err)
			}
			if row.Line < lastLine { // a line holding an address list gives several rows
				t.Fatalf("line %d after line %d", row.Line, lastLine)
			}
			lastLine = row.Line
			if row.Err != nil {
				if err := rw.Write(row); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if row.Address == "" {
				t.Fatalf("line %d: valid row without an address", row.Line)
			}
			if opts.Medium != "" && row.Medium != opts.Medium {
				t.Fatalf("line %d: medium %q, want %q", row.Line, row.Medium, opts.Medium)
			}
			again, err := tasks.NormalizeAddress(row.Medium, row.Address)
			if err != nil || again != row.Address {
				t.Fatalf("line %d: %s address %q normalises to %q, %v", row.Line, row.Medium, row.Address, again, err)
			}
		}
		t.Fatalf("no io.EOF after %d rows from %d bytes", len(data)+2, len(data))
	})
}
