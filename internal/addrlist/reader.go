package addrlist

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mxinvite/mxinvite/tasks"
)

// Reader streams the rows of an address list. Create it with NewReader and
// call Next until it returns io.EOF.
//
// CSV/TSV records are split by encoding/csv (LazyQuotes, ragged rows
// allowed), but the Reader decides where each record ends: a quoted field may
// span up to 16 lines, yet an unterminated quote is rejected on its own line
// (ErrMalformedRecord) instead of swallowing the records after it, as
// encoding/csv alone would. Lines longer than 64 KiB are rejected too.
type Reader struct {
	opts   Options
	src    *lineSource
	format string

	// CSV and TSV only.
	delim  byte
	fields *fieldSplitter
	header []string
	column int

	// medium is the medium rows are checked against ("" = inferred per
	// row), mediumCol the column giving each row's own medium, or -1 (see
	// chooseMedium).
	medium    tasks.Medium
	mediumCol int

	raw [1]string // backs Row.Raw for plain lists
}

// NewReader returns a Reader for the list in r. It reads only up to the
// first non-blank line, to detect the format (unless opts.Format is set) and
// find the address column. It fails if opts are invalid, if opts.Column is
// not in the header, or if a CSV/TSV header has no recognisable address
// column.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	rd := &Reader{opts: opts, src: newLineSource(r), format: FormatLines}
	if why := notText(rd.src.head(textSniffBytes)); why != "" {
		return nil, fmt.Errorf("addrlist: %w: %s", ErrNotText, why)
	}
	rd.chooseMedium()
	if err := rd.src.skipBOM(); err != nil {
		return nil, err
	}
	if opts.Format == FormatLines {
		return rd, nil
	}
	first, err := rd.src.next()
	for err == nil && !first.truncated && isBlank(first.text) {
		first, err = rd.src.next()
	}
	switch {
	case err == io.EOF: // an empty list: nothing to sniff, nothing to read
		if opts.Format != "" {
			rd.format = opts.Format
			rd.delim = sniffDelimiter(nil, opts.Format)
		}
		return rd, nil
	case err != nil:
		return nil, err
	}
	if err := rd.readHeader(first); err != nil {
		return nil, err
	}
	return rd, nil
}

// Format returns the input format: FormatCSV, FormatTSV or FormatLines.
func (r *Reader) Format() string { return r.format }

// Medium returns the medium every row is checked against: Options.Medium,
// or the one chosen from the list with Options.MediumFromList; "" when it
// is inferred per row. A "medium" column can still override it per row.
func (r *Reader) Medium() tasks.Medium { return r.medium }

// Header returns the header row of CSV/TSV input, or nil for a plain list.
func (r *Reader) Header() []string { return slices.Clone(r.header) }

// Next returns the next row. Rejected rows come back with Row.Err set; the
// error result is only for I/O errors, and io.EOF at the end of the input.
// Blank lines, comment lines of plain lists and CSV records whose fields are
// all empty are skipped. The returned Row.Raw is reused by the next call.
func (r *Reader) Next() (Row, error) {
	if r.format == FormatLines {
		return r.nextListEntry()
	}
	return r.nextRecord()
}

// nextListEntry returns the next row of a plain list.
func (r *Reader) nextListEntry() (Row, error) {
	for {
		line, err := r.src.next()
		if err != nil {
			return Row{}, err
		}
		if line.truncated {
			return r.malformed(line, tooLong), nil
		}
		if trimmed := bytes.TrimSpace(line.text); len(trimmed) == 0 || isCommentStart(trimmed[0]) {
			continue
		}
		r.raw[0] = string(line.text)
		medium, address, err := r.resolve(listEntry(r.raw[0]), r.medium)
		return Row{Line: line.num, Raw: r.raw[:], Medium: medium, Address: address, Err: err}, nil
	}
}

// nextRecord returns the next row of CSV/TSV input.
func (r *Reader) nextRecord() (Row, error) {
	for {
		line, err := r.src.next()
		if err != nil {
			return Row{}, err
		}
		if line.truncated {
			return r.malformed(line, tooLong), nil
		}
		if isBlank(line.text) {
			continue
		}
		record := line.text
		if quoteOpenAtEnd(line.text, false, r.delim) {
			var ok bool
			record, line, ok, err = r.joinQuotedLines(line)
			if err != nil {
				return Row{}, err
			}
			if !ok {
				return r.malformed(line, "unterminated quoted field"), nil
			}
		}
		fields, ok := r.fields.split(record)
		if !ok {
			return r.malformed(line, "ambiguous quoting"), nil
		}
		if allBlank(fields) {
			continue
		}
		return r.recordRow(line.num, fields), nil
	}
}

// joinQuotedLines collects the lines of a record whose quoted field spans
// lines. It gives up, and pushes the lines after first back to be read as
// records of their own, when the quote stays open for too long or when a
// continuation line would be a good row by itself: that is an unterminated
// quote swallowing its neighbours, not a multi-line field. It returns first
// with its text copied, as reading on invalidates it.
func (r *Reader) joinQuotedLines(first physicalLine) (record []byte, owned physicalLine, ok bool, err error) {
	held := []physicalLine{first.own()}
	record = append(record, first.text...)
	for len(held) < maxRecordLines {
		line, err := r.src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, held[0], false, err
		}
		line = line.own()
		held = append(held, line)
		if line.truncated || len(record)+1+len(line.text) > maxRecordBytes || r.isGoodRecord(line.text) {
			break
		}
		record = append(append(record, '\n'), line.text...)
		if !quoteOpenAtEnd(line.text, true, r.delim) {
			return record, held[0], true, nil
		}
	}
	r.src.unread(held[1:]...)
	return nil, held[0], false, nil
}

// isGoodRecord reports whether line, read as a record by itself, holds a
// valid address in the address column.
func (r *Reader) isGoodRecord(line []byte) bool {
	if isBlank(line) || quoteOpenAtEnd(line, false, r.delim) {
		return false
	}
	fields, ok := r.fields.split(line)
	if !ok || r.column >= len(fields) {
		return false
	}
	want, err := r.rowMedium(fields)
	if err != nil {
		return false
	}
	_, _, err = r.resolve(fields[r.column], want)
	return err == nil
}

// recordRow turns the fields of a CSV/TSV record into a Row.
func (r *Reader) recordRow(lineNum int, fields []string) Row {
	var cell string
	if r.column < len(fields) {
		cell = fields[r.column]
	}
	want, err := r.rowMedium(fields)
	if err != nil {
		return Row{Line: lineNum, Raw: fields, Medium: r.medium, Err: err}
	}
	medium, address, err := r.resolve(cell, want)
	if err == nil && len(fields) > 1 {
		// encoding/csv slices all fields out of one string; copy the address
		// so that keeping it does not keep the whole record alive.
		address = strings.Clone(address)
	}
	return Row{Line: lineNum, Raw: fields, Medium: medium, Address: address, Err: err}
}

// tooLong is the reason given for lines over maxLineBytes.
const tooLong = "line longer than 64 KiB"

// malformed returns a reject for a line that is not a usable record. For
// CSV/TSV, Raw is the line split at every delimiter, which keeps the columns
// aligned in the reject file even though the quoting is broken.
func (r *Reader) malformed(line physicalLine, reason string) Row {
	text := string(line.text)
	raw := []string{text}
	if r.format != FormatLines {
		raw = strings.Split(text, string(rune(r.delim)))
	}
	return Row{Line: line.num, Raw: raw, Medium: r.opts.Medium, Err: fmt.Errorf("%w: %s", ErrMalformedRecord, reason)}
}

// allBlank reports whether every field is empty or spaces: spreadsheet
// exports end with rows like ",,,", which are not rejects but padding.
func allBlank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
