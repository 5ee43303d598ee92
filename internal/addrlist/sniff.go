package addrlist

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// addressColumns are the header names searched for the address column when
// Options.Column is empty, most specific first: with both "email" and
// "phone" columns, email wins.
var addressColumns = [...]string{"email", "mail", "e-mail", "address", "phone", "msisdn", "phone_number", "mobile"}

// readHeader decides from the first non-blank line whether the input is a
// CSV/TSV file or a plain list, and for CSV/TSV parses the header and finds
// the address column.
//
// A header is a line one of whose fields names the address column. Plain
// lists are recognised by not having one, so a one-column CSV ("email" then
// one address per line) is read as CSV too.
func (r *Reader) readHeader(first physicalLine) error {
	if first.truncated {
		if r.opts.Format == "" {
			r.useLines(first)
			return nil
		}
		return fmt.Errorf("addrlist: the header line is longer than %d bytes", maxLineBytes)
	}
	r.delim = sniffDelimiter(first.text, r.opts.Format)
	r.fields = newFieldSplitter(r.delim)
	fields, _ := r.fields.split(first.text)
	header := slices.Clone(fields)
	column := findColumn(header, r.opts.Column)
	switch {
	case column >= 0:
		r.header, r.column = header, column
		r.format = FormatCSV
		if r.delim == '\t' {
			r.format = FormatTSV
		}
		return nil
	case r.opts.Column != "":
		return fmt.Errorf("addrlist: column %q not found in header %q", r.opts.Column, header)
	case r.opts.Format != "":
		return fmt.Errorf("addrlist: no address column in header %q: set the column name, or name it one of %s",
			header, strings.Join(addressColumns[:], ", "))
	}
	r.useLines(first)
	return nil
}

// useLines switches the reader to plain-list mode, keeping the line that was
// read to sniff the format as the first line of data.
func (r *Reader) useLines(first physicalLine) {
	r.format = FormatLines
	r.delim, r.fields = 0, nil
	r.src.unread(first.own())
}

// sniffDelimiter picks the delimiter a header line uses most, preferring
// tab, then comma, then semicolon (European spreadsheet exports) on ties.
// A line without any is a one-column file: comma.
func sniffDelimiter(line []byte, format string) byte {
	if format == FormatTSV {
		return '\t'
	}
	best, bestCount := byte(','), 0
	for _, delim := range []byte{'\t', ',', ';'} {
		if delim == '\t' && format == FormatCSV {
			continue
		}
		if n := bytes.Count(line, []byte{delim}); n > bestCount {
			best, bestCount = delim, n
		}
	}
	return best
}

// findColumn returns the index of the address column in header, or -1.
func findColumn(header []string, want string) int {
	if want = strings.TrimSpace(want); want != "" {
		return indexFold(header, want)
	}
	for _, name := range addressColumns {
		if i := indexFold(header, name); i >= 0 {
			return i
		}
	}
	return -1
}

// indexFold returns the index of the first header equal to name, ignoring
// case and surrounding spaces, or -1.
func indexFold(header []string, name string) int {
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return i
		}
	}
	return -1
}
