package addrlist

import (
	"bufio"
	"bytes"
	"io"
	"unicode/utf8"
)

// maxLineBytes bounds a physical line. Longer lines are rejected (their first
// maxLineBytes kept as Raw) rather than buffered: memory must not depend on
// the input, and no address list has lines that long.
const maxLineBytes = 64 << 10

// utf8BOM is the byte order mark spreadsheet programs put at the start of
// "UTF-8 CSV" exports.
const utf8BOM = "\xEF\xBB\xBF"

// physicalLine is one line of input without its line terminator.
type physicalLine struct {
	num       int    // 1-based line number
	text      []byte // without "\n" and trailing "\r"
	truncated bool   // the line was longer than maxLineBytes; text is its start
}

// lineSource splits the input into physical lines, numbers them and lets the
// CSV framer push lines back when a multi-line record turns out malformed.
type lineSource struct {
	br      *bufio.Reader
	num     int            // number of the last line read from br
	pending []physicalLine // pushed-back lines, served before br
	long    []byte         // reused buffer for the start of an overlong line
	err     error          // sticky: io.EOF or the I/O error that ended br

	// perLine: a line that is not valid UTF-8 is decoded from
	// Windows-1252 (see decodedInput); converted counts those lines and
	// firstConverted is the number of the first.
	perLine        bool
	converted      int
	firstConverted int
}

func newLineSource(r io.Reader) *lineSource {
	return &lineSource{br: bufio.NewReaderSize(r, maxLineBytes)}
}

// head returns up to n bytes from the start of the input without consuming
// them, for sniffing. A read error is not reported here: the bytes before it
// are sniffed, and reading on meets the error where it can be reported.
func (s *lineSource) head(n int) []byte {
	b, _ := s.br.Peek(n)
	return b
}

// skipBOM drops a UTF-8 byte order mark at the start of the input.
func (s *lineSource) skipBOM() error {
	head, err := s.br.Peek(len(utf8BOM))
	if string(head) == utf8BOM {
		_, err = s.br.Discard(len(utf8BOM))
		return err
	}
	if err == io.EOF || err == bufio.ErrBufferFull {
		return nil
	}
	return err
}

// next returns the next physical line. Its text is only valid until the
// next call: it may point into the read buffer.
func (s *lineSource) next() (physicalLine, error) {
	if len(s.pending) > 0 {
		line := s.pending[0]
		s.pending = s.pending[1:]
		return line, nil
	}
	if s.err != nil {
		return physicalLine{}, s.err
	}
	text, err := s.br.ReadSlice('\n')
	truncated := false
	if err == bufio.ErrBufferFull {
		truncated = true
		s.long = append(s.long[:0], text...)
		text = s.long
		for err == bufio.ErrBufferFull { // skip the rest of the line
			_, err = s.br.ReadSlice('\n')
		}
	}
	if err != nil {
		s.err = err
		if len(text) == 0 || err != io.EOF {
			return physicalLine{}, err
		}
		// The last line has no terminator; serve it now and io.EOF next time.
	}
	s.num++
	text = bytes.TrimSuffix(text, []byte{'\n'})
	// encoding/csv turns "\r\n" into "\n"; dropping every trailing "\r" keeps
	// the CSV framer's view of line ends identical to encoding/csv's.
	text = bytes.TrimRight(text, "\r")
	if s.perLine && !utf8.Valid(text) {
		text = fromWindows1252(text)
		if s.converted++; s.firstConverted == 0 {
			s.firstConverted = s.num
		}
	}
	return physicalLine{num: s.num, text: text, truncated: truncated}, nil
}

// unread pushes lines back so that next returns them first, in order. The
// lines must own their text (see own).
func (s *lineSource) unread(lines ...physicalLine) {
	s.pending = append(append(make([]physicalLine, 0, len(lines)+len(s.pending)), lines...), s.pending...)
}

// own returns a copy of line whose text survives later calls to next.
func (line physicalLine) own() physicalLine {
	line.text = bytes.Clone(line.text)
	return line
}

// isBlank reports whether b holds nothing but spaces and tabs.
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}
