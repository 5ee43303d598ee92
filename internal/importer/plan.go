package importer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mxinvite/mxinvite/tasks"
)

// Plan is a list to import and what every invite of it shares: what
// `mxinvite enqueue` and `mxinvite schedule add` are both given, checked the
// same way for both before anything is contacted, so that a typo is one line
// at once rather than a failure at every tick of a schedule.
type Plan struct {
	// Options are the shared fields: Campaign, Sender, IDServer, Medium,
	// MediumFromList, Column (RoomID is set once Room is resolved).
	Options Options
	// Input is the list's path, or "-" for stdin.
	Input string
	// Room is the room as given: a room ID, or, with Alias, a room alias
	// the caller resolves with the homeserver (after Check).
	Room  string
	Alias bool
}

// ErrNoInput is Check's error for a plan without a list.
var ErrNoInput = errors.New("no list: give a path, or - for stdin")

// InputError is a list file Check refuses: missing, a directory, or not an
// address list (see CheckInput).
type InputError struct {
	Path string
	Err  error
}

func (e *InputError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Check checks the shared fields by the rules the worker applies (a
// *tasks.FieldError names the field) and the list: a file (not stdin) must
// exist and read as an address list — text, and for CSV/TSV a header naming
// the address column (an *InputError) — and ErrNoInput without one.
func (p Plan) Check() error {
	room := p.Room
	if p.Alias {
		room = "!alias:checked-later" // resolved by the homeserver, after these checks
	}
	o := p.Options
	if _, err := tasks.NewInvite(tasks.Invite{Campaign: o.Campaign, RoomID: room, Sender: o.Sender,
		IDServer: o.IDServer, Medium: tasks.MediumEmail, Address: "probe@example.org"}); err != nil {
		return err
	}
	switch p.Input {
	case "":
		return ErrNoInput
	case "-":
		return nil
	}
	return checkFile(p.Input, o)
}

// checkFile refuses a file that is missing, a directory, or not an
// address list.
func checkFile(path string, o Options) error {
	f, err := os.Open(path)
	if err != nil {
		return &InputError{Path: path, Err: unwrapPath(err)}
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return &InputError{Path: path, Err: errors.New("is a directory")}
	}
	if err := CheckInput(f, o); err != nil {
		return &InputError{Path: path, Err: err}
	}
	return nil
}

// unwrapPath drops the path an *os.PathError repeats ("open x: no such
// file" becomes "no such file"): InputError names the path once.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

// DefaultRejects is where the rejects of the list at path go unless told
// otherwise: members.csv -> members.rejects.csv.
func DefaultRejects(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".rejects" + ext
}
