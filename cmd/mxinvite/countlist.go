package main

import (
	"io"
	"os"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

// countAddresses counts the valid addresses of the list at path (duplicates
// included: an upper bound of the invites to send), for preflight's
// rate-limit note; -1 when the list cannot be read. It reads the whole
// file, so preflight calls it only when the note is printed.
func countAddresses(path string, opts addrlist.Options) int {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	r, err := addrlist.NewReader(f, opts)
	if err != nil {
		return -1
	}
	n := 0
	for {
		row, err := r.Next()
		switch {
		case err == io.EOF:
			return n
		case err != nil:
			return -1
		case row.Err == nil:
			n++
		}
	}
}
