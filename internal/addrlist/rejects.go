package addrlist

import (
	"bufio"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mxinvite/mxinvite/internal/csvsafe"
)

// Names of the columns a RejectWriter adds to CSV/TSV rejects.
const (
	rejectLineColumn   = "line"
	rejectReasonColumn = "reason"
)

// RejectWriter writes rejected rows in the format they were read in, plus
// where they came from and why they were rejected, so the operator can fix
// the file and import it again:
//
//   - CSV/TSV: the original header plus the columns "line" and "reason",
//     then each reject's fields plus those two values, with the input's
//     delimiter, every cell a spreadsheet would run as a formula prefixed
//     with "'" (see csvsafe; the Reader strips it again). Re-importing a reject file and rejecting rows again
//     replaces the two columns instead of adding two more.
//   - Plain lists: each reject as "<raw line>  # line N: reason"; the reader
//     ignores trailing comments, so fixed lines import as they are. A line
//     holding several addresses comes back as one line per bad address.
//   - vCard: each rejected card as read, with an X-MXINVITE-REJECT property
//     saying "line N: reason" before its END:VCARD.
//
// The file is UTF-8, starting with a byte order mark when the input had one
// or was in another encoding (spreadsheet programs need it to read names
// right). Call Flush when done.
type RejectWriter struct {
	lines *bufio.Writer // plain lists and vCard
	vcard bool
	csv   *csv.Writer // CSV/TSV
	bom   func() bool // whether to write a UTF-8 byte order mark before the first reject

	header      []string
	keep        int  // header columns before line and reason
	replacing   bool // the input is itself a reject file: drop its line and reason
	wroteHeader bool // the header goes out with the first reject: no rejects, empty file
	record      []string
}

// NewRejectWriter returns a RejectWriter writing to w in the format of r.
func NewRejectWriter(w io.Writer, r *Reader) *RejectWriter {
	// Decided at the first reject: by then the reader knows whether it met
	// lines in Windows-1252.
	bom := func() bool { return r.bom || r.src.converted > 0 }
	if r.Format() == FormatLines || r.Format() == FormatVCard {
		return &RejectWriter{lines: bufio.NewWriter(w), vcard: r.Format() == FormatVCard, bom: bom}
	}
	rw := &RejectWriter{header: r.Header()}
	rw.csv = csv.NewWriter(&bomWriter{w: w, need: bom})
	rw.csv.Comma = rune(r.delim)
	rw.keep = len(rw.header)
	if n := len(rw.header); n >= 2 &&
		strings.EqualFold(strings.TrimSpace(rw.header[n-2]), rejectLineColumn) &&
		strings.EqualFold(strings.TrimSpace(rw.header[n-1]), rejectReasonColumn) {
		rw.keep, rw.replacing = n-2, true
		rw.header = rw.header[:n-2]
	}
	rw.header = append(rw.header, rejectLineColumn, rejectReasonColumn)
	return rw
}

// Write writes one rejected row. Rows without Err are refused: a reject
// file must only hold rows that need fixing.
func (w *RejectWriter) Write(row Row) error {
	if row.Err == nil {
		return errors.New("addrlist: RejectWriter.Write: row " + strconv.Itoa(row.Line) + " is not a reject")
	}
	reason := oneLine(row.Err.Error())
	if w.lines != nil && w.bom != nil {
		if w.bom() {
			w.lines.WriteString(utf8BOM)
		}
		w.bom = nil
	}
	if w.vcard {
		return w.writeCard(row, reason)
	}
	if w.lines != nil {
		var raw string
		if len(row.Raw) > 0 {
			raw = row.Raw[0]
		}
		w.lines.WriteString(raw)
		w.lines.WriteString("  # line ")
		w.lines.WriteString(strconv.Itoa(row.Line))
		w.lines.WriteString(": ")
		w.lines.WriteString(reason)
		return w.lines.WriteByte('\n')
	}
	if !w.wroteHeader {
		w.wroteHeader = true
		if err := w.csv.Write(csvsafe.Record(slices.Clone(w.header))); err != nil {
			return err
		}
	}
	// Pad short rows and cut the old line/reason of re-imported rejects, so
	// the new values land under their headers.
	fields := row.Raw
	if w.replacing && len(fields) > w.keep {
		fields = fields[:w.keep]
	}
	w.record = append(w.record[:0], fields...)
	for len(w.record) < w.keep {
		w.record = append(w.record, "")
	}
	w.record = append(w.record, strconv.Itoa(row.Line), reason)
	// The cells come from the input, often from public sign-ups: keep a
	// spreadsheet from running them (see csvsafe); the reader undoes it.
	return w.csv.Write(csvsafe.Record(w.record))
}

// Flush writes any buffered rejects to the underlying writer.
func (w *RejectWriter) Flush() error {
	if w.lines != nil {
		return w.lines.Flush()
	}
	w.csv.Flush()
	return w.csv.Error()
}

// oneLine keeps a reason on one line, as both output formats need.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	}
	return s
}

// writeCard writes a rejected card with its reason as a property.
func (w *RejectWriter) writeCard(row Row, reason string) error {
	lines := row.Raw
	end := len(lines)
	if end > 0 && isVCardLine([]byte(lines[end-1]), vcardEnd) {
		end--
	}
	for _, l := range lines[:end] {
		w.lines.WriteString(l)
		w.lines.WriteString("\r\n")
	}
	w.lines.WriteString(vcardRejectProperty + ":")
	w.lines.WriteString(escapeCardValue("line " + strconv.Itoa(row.Line) + ": " + reason))
	w.lines.WriteString("\r\n")
	if end < len(lines) && isVCardLine([]byte(lines[end]), vcardEnd) {
		w.lines.WriteString(lines[end])
	} else if len(lines) > 0 && isVCardLine([]byte(lines[0]), vcardBegin) {
		w.lines.WriteString(vcardEnd) // the card had none: close it
	}
	_, err := w.lines.WriteString("\r\n")
	return err
}

// bomWriter writes a UTF-8 byte order mark before its first write if need
// says so then.
type bomWriter struct {
	w     io.Writer
	need  func() bool
	wrote bool
}

func (b *bomWriter) Write(p []byte) (int, error) {
	if !b.wrote {
		b.wrote = true
		if b.need() {
			if _, err := io.WriteString(b.w, utf8BOM); err != nil {
				return 0, err
			}
		}
	}
	return b.w.Write(p)
}
