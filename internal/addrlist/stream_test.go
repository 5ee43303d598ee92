package addrlist_test

import (
	"io"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

const streamRows = 200_000

// TestStreaming reads generated lists row by row; nothing is held in memory
// but the current row.
func TestStreaming(t *testing.T) {
	for _, tt := range []struct {
		name   string
		input  io.Reader
		format string
	}{
		{name: "csv", input: csvRows(streamRows), format: addrlist.FormatCSV},
		{name: "lines", input: plainRows(streamRows), format: addrlist.FormatLines},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd := newReader(t, tt.input, addrlist.Options{})
			if rd.Format() != tt.format {
				t.Fatalf("Format() = %q", rd.Format())
			}
			rows, rejects, lastLine := 0, 0, 0
			for {
				row, err := rd.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				rows++
				if row.Err != nil {
					rejects++
				}
				if row.Line <= lastLine {
					t.Fatalf("line %d after line %d", row.Line, lastLine)
				}
				lastLine = row.Line
			}
			if rows != streamRows || rejects != streamRows/badEvery {
				t.Errorf("%d rows, %d rejects; want %d and %d", rows, rejects, streamRows, streamRows/badEvery)
			}
		})
	}
}
