package addrlist

import (
	"bytes"
	"encoding/csv"
	"io"

	"github.com/mxinvite/mxinvite/internal/csvsafe"
)

// A quoted CSV field may legitimately span lines (a multi-line "notes"
// column), but an unterminated quote would swallow every following line up
// to the next quote character. encoding/csv cannot tell the two apart, so the
// Reader frames records itself and hands encoding/csv one record at a time.
// A record may span at most maxRecordLines lines and maxRecordBytes bytes.
const (
	maxRecordLines = 16
	maxRecordBytes = maxLineBytes
)

// quoteOpenAtEnd reports whether a record is still inside a quoted field at
// the end of line, given whether it was at the start. It follows the rules
// of encoding/csv with LazyQuotes: a field is quoted only if it starts with
// '"'; inside it, `""` is a literal quote, a '"' before the delimiter or the
// end of the line closes the field, and any other '"' is kept as it is.
func quoteOpenAtEnd(line []byte, inQuotes bool, delim byte) bool {
	i := 0
	for i < len(line) {
		if !inQuotes {
			if line[i] == '"' {
				inQuotes = true
				i++
				continue
			}
			next := bytes.IndexByte(line[i:], delim)
			if next < 0 {
				return false
			}
			i += next + 1
			continue
		}
		quote := bytes.IndexByte(line[i:], '"')
		if quote < 0 {
			return true
		}
		i += quote + 1
		switch {
		case i == len(line):
			return false
		case line[i] == '"':
			i++
		case line[i] == delim:
			inQuotes = false
			i++
		}
	}
	return inQuotes
}

// fieldSplitter splits framed records into fields with encoding/csv. The
// csv.Reader reads from a feed holding exactly one record, so it can never
// read past the boundary the framer chose.
type fieldSplitter struct {
	feed recordFeed
	csv  *csv.Reader
	fed  int64 // bytes handed to csv so far, to check it consumed each record exactly
}

func newFieldSplitter(delim byte) *fieldSplitter {
	s := &fieldSplitter{}
	s.csv = csv.NewReader(&s.feed)
	s.csv.Comma = rune(delim)
	s.csv.FieldsPerRecord = -1 // ragged rows are fine: only one column matters
	s.csv.LazyQuotes = true    // a stray quote is data, not a reason to reject
	s.csv.ReuseRecord = true
	return s
}

// split returns the fields of one record (without its line terminator). The
// slice is reused by the next call. ok is false if encoding/csv disagreed
// with the framer about where the record ends, which the caller reports as a
// malformed record rather than guessing.
func (s *fieldSplitter) split(record []byte) (fields []string, ok bool) {
	s.feed.set(record)
	s.fed += int64(len(record)) + 1
	fields, err := s.csv.Read()
	if err == nil && s.csv.InputOffset() == s.fed {
		for i, f := range fields {
			fields[i] = csvsafe.Unquote(f) // as written by mxinvite's own CSVs
		}
		return fields, true
	}
	for s.csv.InputOffset() < s.fed { // resynchronise: drop the rest of this record
		if _, err := s.csv.Read(); err != nil {
			break
		}
	}
	s.fed = s.csv.InputOffset()
	return nil, false
}

// recordFeed is the io.Reader behind fieldSplitter: one record, then "\n",
// then io.EOF until the next record is set.
type recordFeed struct {
	record  []byte
	newline bool
}

func (f *recordFeed) set(record []byte) {
	f.record, f.newline = record, true
}

func (f *recordFeed) Read(p []byte) (int, error) {
	n := copy(p, f.record)
	f.record = f.record[n:]
	if len(f.record) == 0 && f.newline && n < len(p) {
		p[n] = '\n'
		n++
		f.newline = false
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
