package main

import (
	"io"
	"os"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

// countAddresses counts the valid addresses of the list at path (duplicates
// included: an upper bound of the invites to send), for preflight's
// rate-limit note; -1 when the list cannot be read. It reads the whole
// file, so preflight calls it only when the note is printed.
func countAddresses(path string, medium tasks.Medium, column string) int {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	r, err := addrlist.NewReader(f, addrlist.Options{Medium: medium, Column: column})
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
