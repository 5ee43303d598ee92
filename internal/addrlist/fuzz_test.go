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
// the reject writer) with options chosen by mode: every format (CSV, TSV,
// plain lists with address lists in a line, vCard) and encoding detection,
// with and without a phone region. Every row must be either a reject or an
// address that tasks accepts unchanged.
func FuzzReader(f *testing.F) {
	for _, seed := range []string{
		"email,name\na@example.org,A\n\"b@example.org,B\nc@example.org,C\n",
		"Phone\tName\n+44 20 7946 0958\tA\n",
		"Alice <a@example.org>\r\n# comment\r\nb@example.org (B)\r\n",
		"\uFEFFmail;x\n\"q\"\"@example.org\";\"a\nb\"\n",
		"e-mail\n\"\n\"\n\"\n",
		"a@x.org; b@y.org; \"C, D\" <c@z.org>, Team: t@x.org;, Doe, Jane <j@x.org> ::: bad\n",
		"BEGIN:VCARD\r\nVERSION:3.0\r\nitem1.EMAIL;type=INTERNET;type=pref:a@\r\n x.org\r\nTEL;TYPE=cell:(415) 555-0132\r\nEND:VCARD\r\n",
		"BEGIN:VCARD\nEMAIL;PREF=2:b@x.org\nEMAIL;PREF=1:\\,@x\nBEGIN:VCARD\nTEL;VALUE=uri:tel:+1-202-555-0143;ext=1\n",
		"First Name,E-mail Address,E-mail 2 Address,Mobile Phone\nA,,\"a@x.org, b@x.org\",020 7946 0958\n",
		"\xff\xfen\x00a\x00m\x00e\x00\n\x00",
		"name,email\nRen\xe9e,r@x.org\n",
	} {
		f.Add([]byte(seed), byte(0))
	}
	files, err := filepath.Glob(filepath.Join(fuzzSeedDir, "*"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed lists in %s (%v)", fuzzSeedDir, err)
	}
	exports, err := filepath.Glob(filepath.Join(listsDir, "exports", "*"))
	if err != nil || len(exports) == 0 {
		f.Fatalf("no exported lists in %s (%v)", listsDir, err)
	}
	files = append(files, exports...)
	for i, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, byte(i))
	}

	formats := []string{"", addrlist.FormatCSV, addrlist.FormatTSV, addrlist.FormatLines, addrlist.FormatVCard}
	media := []tasks.Medium{"", tasks.MediumEmail, tasks.MediumMSISDN}
	regions := []string{"", "US", "GB"}
	f.Fuzz(func(t *testing.T, data []byte, mode byte) {
		opts := addrlist.Options{
			Format:         formats[int(mode)%len(formats)],
			Medium:         media[int(mode/5)%len(media)],
			Region:         regions[int(mode/15)%len(regions)],
			MediumFromList: mode >= 45,
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
				if p := rd.Plan(); p.Format != rd.Format() || p.String() == "" {
					t.Fatalf("plan %+v for format %s", p, rd.Format())
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
