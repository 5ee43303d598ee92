package addrlist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// file (a FIFO, a terminal, /dev/null) is written in place, never replaced;
// so are /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N, through
// the process's own descriptor (shared with its other output, whatever it
// points to: a pipe, or a regular file the shell redirected to). A symbolic
// link to a regular file is followed: the file it names is replaced, the
// link stays.
type RejectsFile struct {
	path   string
	target string // where the temporary file goes: path, or the file its link names
	f      *os.File
	tmp    bool // f is a temporary file to rename over path
	n      int64
}

// CreateRejectsFile opens the destination path as described above.
func CreateRejectsFile(path string) (*RejectsFile, error) {
	if fd, ok := processDescriptor(path); ok {
		f, err := dupDescriptor(fd)
		if err != nil {
			return nil, fmt.Errorf("cannot write rejects to %s: %w", path, err)
		}
		return &RejectsFile{path: path, f: f}, nil
	}
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
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved // rename over the file the link names, not the link
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", path, pathErrCause(err))
	}
	return &RejectsFile{path: path, target: target, f: f, tmp: true}, nil
}

// processDescriptor returns the descriptor a path names that stands for
// one of the process's own (/dev/stdout is /proc/self/fd/1): opening such a
// path anew would start writing at offset 0 of a file the shell redirected
// to, over the process's other output.
func processDescriptor(path string) (int, bool) {
	switch path {
	case "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/"} {
		if rest, ok := strings.CutPrefix(path, dir); ok {
			if fd, err := strconv.Atoi(rest); err == nil && fd >= 0 {
				return fd, true
			}
		}
	}
	return 0, false
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
	if err := os.Rename(f.Name(), r.target); err != nil {
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
