package addrlist_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

const benchRows = 200_000

func BenchmarkReaderCSV(b *testing.B) { benchmarkReader(b, csvRows(benchRows)) }

func BenchmarkReaderLines(b *testing.B) { benchmarkReader(b, plainRows(benchRows)) }

// benchmarkReader reads a 200,000-row list held in memory, so the figures
// are the parser's own, and reports rows per second.
func benchmarkReader(b *testing.B, list io.Reader) {
	input, err := io.ReadAll(list)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := addrlist.NewReader(bytes.NewReader(input), addrlist.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		if rows != benchRows {
			b.Fatalf("%d rows, want %d", rows, benchRows)
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
