package addrlist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// RejectsFile is the destination of an import's rejects. It is created
// before the import starts, so that a destination that cannot be written
// stops the import before anything is enqueued, rather than losing the
// rejected rows after the valid ones went out.
//
// The rows go to a temporary file beside the destination, which Close
// renames over it if anything was written and removes otherwise: an import
// without rejects leaves an earlier rejects file as it was, and nobody
// reads a half-written one. A destination that exists and is not a regular
// file (/dev/stdout, a FIFO) is written directly.
type RejectsFile struct {
	path string
	f    *os.File
	tmp  bool // f is a temporary file to rename over path
	n    int64
}

// CreateRejectsFile opens the destination path as described above.
func CreateRejectsFile(path string) (*RejectsFile, error) {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		if st.IsDir() {
			return nil, fmt.Errorf("cannot write rejects to %s: it is a directory", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("cannot write rejects to %s: %w", path, pathErrCause(err))
		}
		return &RejectsFile{path: path, f: f}, nil
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", path, pathErrCause(err))
	}
	return &RejectsFile{path: path, f: f, tmp: true}, nil
}

// Path returns the destination.
func (r *RejectsFile) Path() string { return r.path }

// Write writes rejects (a RejectWriter's output).
func (r *RejectsFile) Write(b []byte) (int, error) {
	if r.f == nil {
		return 0, fmt.Errorf("write rejects to %s: already closed", r.path)
	}
	n, err := r.f.Write(b)
	r.n += int64(n)
	return n, err
}

// Close puts the rejects in place (see RejectsFile). A second Close is a
// no-op.
func (r *RejectsFile) Close() error {
	if r.f == nil {
		return nil
	}
	f := r.f
	r.f = nil
	err := f.Close()
	if !r.tmp {
		return err
	}
	if err != nil || r.n == 0 {
		_ = os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), r.path); err != nil {
		return fmt.Errorf("put the rejects in %s: %w (they are in %s)", r.path, pathErrCause(err), f.Name())
	}
	return nil
}

// pathErrCause drops the temporary file's name from an os error: the
// operator named the destination, not the temporary file.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
