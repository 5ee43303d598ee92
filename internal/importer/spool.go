package importer

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

// twoPass prepares src for a counting pass followed by the import: it counts
// the valid rows and returns a reader positioned where src was. A seekable
// src (a regular file) is read twice; anything else (a pipe, stdin) is first
// copied to a temporary file in dir, which cleanup removes.
func twoPass(src io.Reader, opts addrlist.Options, dir string) (r io.Reader, valid int64, cleanup func(), err error) {
	cleanup = func() {}
	if rs, ok := src.(io.ReadSeeker); ok {
		if pos, err := rs.Seek(0, io.SeekCurrent); err == nil {
			valid, err := countValid(rs, opts)
			if err != nil {
				return nil, 0, cleanup, err
			}
			if _, err := rs.Seek(pos, io.SeekStart); err != nil {
				return nil, 0, cleanup, fmt.Errorf("importer: rewind the input: %w", err)
			}
			return rs, valid, cleanup, nil
		}
	}
	f, err := os.CreateTemp(dir, "mxinvite-import-*")
	if err != nil {
		return nil, 0, cleanup, fmt.Errorf("importer: spool the input to count it: %w", err)
	}
	cleanup = func() { _ = f.Close(); _ = os.Remove(f.Name()) }
	if _, err := io.Copy(f, src); err != nil {
		cleanup()
		return nil, 0, func() {}, fmt.Errorf("importer: spool the input to count it: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, 0, func() {}, err
	}
	if valid, err = countValid(f, opts); err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, func() {}, err
	}
	return f, valid, cleanup, nil
}

// countValid counts the rows of r that hold a usable address.
func countValid(r io.Reader, opts addrlist.Options) (int64, error) {
	rd, err := addrlist.NewReader(r, opts)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrInput, err)
	}
	var n int64
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("importer: count the input: %w", err)
		}
		if row.Err == nil {
			n++
		}
	}
}
