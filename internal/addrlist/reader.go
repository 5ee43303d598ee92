package addrlist

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
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
	column int // the address column, or -1 for an export (see exportCols)

	// export names the exporter whose format the header is in (see
	// exports.go), or is ""; emailCols and phoneCols are its address
	// columns, most preferred first.
	export    string
	emailCols []int
	phoneCols []int

	// encoding describes the input's encoding (see decodedInput).
	encoding string
	// bom: the input started with a byte order mark, or was decoded from
	// another encoding; rejects then start with a UTF-8 one, so that
	// spreadsheet programs read their names right.
	bom bool

	// pending holds rows of the record read last (an address list in a
	// cell yields several), served by Next from pending[served:] before
	// reading on; the slice is reused.
	pending []Row
	served  int

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
	src, encoding, perLine, err := decodedInput(r, opts.Encoding)
	if err != nil {
		return nil, err
	}
	rd := &Reader{opts: opts, src: newLineSource(src), format: FormatLines, column: -1, encoding: encoding}
	rd.src.perLine = perLine
	rd.bom = !perLine || strings.Contains(encoding, "byte order mark")
	if why := notText(rd.src.head(textSniffBytes)); why != "" {
		return nil, fmt.Errorf("addrlist: %w: %s", ErrNotText, why)
	}
	rd.chooseMedium()
	if err := rd.src.skipBOM(); err != nil {
		return nil, err
	}
	if opts.Format == FormatLines || opts.Format == FormatVCard {
		rd.format = opts.Format
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

// Next returns the next row: one per address of a plain list or of a
// generic CSV/TSV address column (a line or cell may hold an address list),
// one per person of a contacts export or vCard file. Rejected rows come
// back with Row.Err set; the error result is only for I/O errors, and
// io.EOF at the end of the input. Blank lines, comment lines of plain lists
// and CSV records whose fields are all empty are skipped. The returned
// Row.Raw is reused by the next call.
func (r *Reader) Next() (Row, error) {
	if r.served == len(r.pending) {
		r.pending, r.served = r.pending[:0], 0
	}
	for len(r.pending) == 0 {
		var err error
		switch r.format {
		case FormatLines:
			err = r.readListLine()
		case FormatVCard:
			var row Row
			if row, err = r.nextCard(); err == nil {
				r.pending = append(r.pending, row)
			}
		default:
			err = r.readRecord()
		}
		if err != nil {
			return Row{}, err
		}
	}
	row := r.pending[r.served]
	r.pending[r.served] = Row{} // keep no reference to a served row's memory
	r.served++
	return row, nil
}

// readListLine queues the rows of the next plain-list line that holds any.
func (r *Reader) readListLine() error {
	for {
		line, err := r.src.next()
		if err != nil {
			return err
		}
		if line.truncated {
			r.pending = append(r.pending[:0], r.malformed(line, tooLong))
			return nil
		}
		if trimmed := bytes.TrimSpace(line.text); len(trimmed) == 0 || isCommentStart(trimmed[0]) {
			continue
		}
		r.raw[0] = string(line.text)
		entry := listEntry(r.raw[0])
		parts, single := splitAddressList(entry)
		if single {
			medium, address, err := r.resolve(entry, r.medium)
			r.pending = append(r.pending[:0], Row{Line: line.num, Raw: r.raw[:], Medium: medium, Address: address, Err: err})
			return nil
		}
		r.pending = r.pending[:0]
		for _, part := range parts {
			medium, address, err := r.resolve(part, r.medium)
			r.pending = append(r.pending, Row{Line: line.num, Raw: []string{part}, Medium: medium, Address: address, Err: err})
		}
		if len(r.pending) > 0 {
			return nil
		}
		// Only separators and group names ("undisclosed-recipients:;"): no address.
	}
}

// readRecord queues the rows of the next CSV/TSV record that holds any.
func (r *Reader) readRecord() error {
	for {
		line, err := r.src.next()
		if err != nil {
			return err
		}
		if line.truncated {
			r.pending = append(r.pending[:0], r.malformed(line, tooLong))
			return nil
		}
		if isBlank(line.text) {
			continue
		}
		record := line.text
		if quoteOpenAtEnd(line.text, false, r.delim) {
			var ok bool
			record, line, ok, err = r.joinQuotedLines(line)
			if err != nil {
				return err
			}
			if !ok {
				r.pending = append(r.pending[:0], r.malformed(line, "unterminated quoted field"))
				return nil
			}
		}
		fields, ok := r.fields.split(record)
		if !ok {
			r.pending = append(r.pending[:0], r.malformed(line, "ambiguous quoting"))
			return nil
		}
		if allBlank(fields) {
			continue
		}
		r.pending = r.recordRows(r.pending[:0], line.num, fields)
		return nil
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
// valid address.
func (r *Reader) isGoodRecord(line []byte) bool {
	if isBlank(line) || quoteOpenAtEnd(line, false, r.delim) {
		return false
	}
	fields, ok := r.fields.split(line)
	if !ok {
		return false
	}
	for _, row := range r.recordRows(nil, 0, fields) {
		if row.Err == nil {
			return true
		}
	}
	return false
}

// recordRows appends the rows of a CSV/TSV record to rows: one per address
// in the address column, or one for the person of an export's row.
func (r *Reader) recordRows(rows []Row, lineNum int, fields []string) []Row {
	want, err := r.rowMedium(fields)
	if err != nil {
		return append(rows, Row{Line: lineNum, Raw: fields, Medium: r.medium, Err: err})
	}
	if r.export != "" {
		return append(rows, r.personRow(lineNum, fields, want))
	}
	var cell string
	if r.column < len(fields) {
		cell = fields[r.column]
	}
	parts, single := splitAddressList(cell)
	if single {
		medium, address, err := r.resolve(cell, want)
		if err == nil && len(fields) > 1 {
			// encoding/csv slices all fields out of one string; copy the
			// address so that keeping it does not keep the whole record alive.
			address = strings.Clone(address)
		}
		return append(rows, Row{Line: lineNum, Raw: fields, Medium: medium, Address: address, Err: err})
	}
	for _, part := range parts {
		medium, address, err := r.resolve(part, want)
		// Each address is a row of its own, in the rejects file too: its
		// cell holds only that address, so a fixed reject re-imports
		// without sending its neighbours again.
		raw := slices.Clone(fields)
		raw[r.column] = part
		rows = append(rows, Row{Line: lineNum, Raw: raw, Medium: medium, Address: strings.Clone(address), Err: err})
	}
	if len(parts) == 0 {
		rows = append(rows, Row{Line: lineNum, Raw: fields, Medium: want, Err: ErrEmpty})
	}
	return rows
}

// personRow chooses the address of one person of a contacts export: the
// first address in the first of its email columns (phone columns for a
// phone campaign; both, email first, when the medium is inferred per row)
// that holds a valid one.
func (r *Reader) personRow(lineNum int, fields []string, want tasks.Medium) Row {
	row := Row{Line: lineNum, Raw: fields, Medium: want}
	try := func(cols []int, m tasks.Medium) bool {
		for _, col := range cols {
			if col >= len(fields) || strings.TrimSpace(fields[col]) == "" {
				continue
			}
			parts, single := splitAddressList(fields[col])
			if single {
				parts = []string{fields[col]}
			}
			for _, part := range parts {
				medium, address, err := r.resolve(part, m)
				if err == nil {
					row.Medium, row.Address, row.Err = medium, strings.Clone(address), nil
					return true
				}
				if row.Err == nil {
					row.Medium, row.Err = medium, fmt.Errorf("column %q: %w", r.header[col], err)
				}
			}
		}
		return false
	}
	if want != tasks.MediumMSISDN && try(r.emailCols, tasks.MediumEmail) {
		return row
	}
	if want != tasks.MediumEmail && try(r.phoneCols, tasks.MediumMSISDN) {
		return row
	}
	if row.Err != nil {
		return row
	}
	if want == tasks.MediumEmail {
		if phone := firstFilled(fields, r.phoneCols); phone >= 0 {
			row.Err = fmt.Errorf("%w to invite by email: only a phone number, in %q (give --medium msisdn for a phone campaign)",
				ErrNoAddress, r.header[phone])
			return row
		}
	}
	row.Err = fmt.Errorf("%w in %s", ErrNoAddress, quotedNames(r.header, r.addressCols(want)))
	return row
}

// addressCols are the columns an export's rows take addresses from.
func (r *Reader) addressCols(want tasks.Medium) []int {
	switch want {
	case tasks.MediumEmail:
		return r.emailCols
	case tasks.MediumMSISDN:
		return r.phoneCols
	}
	return append(slices.Clip(r.emailCols), r.phoneCols...)
}

func firstFilled(fields []string, cols []int) int {
	for _, c := range cols {
		if c < len(fields) && strings.TrimSpace(fields[c]) != "" {
			return c
		}
	}
	return -1
}

// quotedNames lists the header names of cols: "E-mail Address", "E-mail 2 Address".
func quotedNames(header []string, cols []int) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = strconv.Quote(header[c])
	}
	if len(names) == 0 {
		return "no column"
	}
	return strings.Join(names, ", ")
}

// tooLong is the reason given for lines over maxLineBytes.
const tooLong = "line longer than 64 KiB"

// malformed returns a reject for a line that is not a usable record. For
// CSV/TSV, Raw is the line split at every delimiter, which keeps the columns
// aligned in the reject file even though the quoting is broken.
func (r *Reader) malformed(line physicalLine, reason string) Row {
	text := string(line.text)
	raw := []string{text}
	if r.format == FormatCSV || r.format == FormatTSV {
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
