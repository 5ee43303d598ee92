package addrlist

import (
	"errors"

	"github.com/mxinvite/mxinvite/tasks"
)

// Kinds of reject. A Row's Err wraps exactly one of them, so an importer can
// count rejects by kind with errors.Is.
var (
	// ErrEmpty: the address cell is empty.
	ErrEmpty = errors.New("empty address")
	// ErrBadSyntax: the address breaks a rule of its medium; the message says which.
	ErrBadSyntax = errors.New("bad syntax")
	// ErrWrongMedium: the address looks like the other medium than Options.Medium.
	ErrWrongMedium = errors.New("wrong medium")
	// ErrNoAddress: a person of a contacts export or vCard file has no
	// address of the campaign's medium (the message says what it has).
	ErrNoAddress = errors.New("no address")
	// ErrMalformedRecord: the line is not a usable record, e.g. an
	// unterminated quoted field or a line longer than 64 KiB.
	ErrMalformedRecord = errors.New("malformed record")
)

// Row is one record of the input: an address ready to invite, or a reject.
type Row struct {
	// Line is the 1-based physical line on which the record starts.
	Line int
	// Raw holds the record's fields as read (for plain lists, one field: the
	// line), so rejects can be written back in the input's format. It is only
	// valid until the next call to Reader.Next, which reuses its memory.
	Raw []string
	// Medium is the medium of the address: Options.Medium or the inferred
	// one (for ErrWrongMedium, the medium the address looked like).
	Medium tasks.Medium
	// Address is the normalised address when Err is nil. It does not pin
	// the rest of the record in memory, so it is safe to keep.
	Address string
	// Err is nil for a good row. Otherwise it says why the row was rejected
	// and wraps ErrEmpty, ErrBadSyntax, ErrWrongMedium, ErrNoAddress or
	// ErrMalformedRecord.
	Err error
}
