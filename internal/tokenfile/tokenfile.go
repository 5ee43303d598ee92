// Package tokenfile reads a sender's access token from a file, and tells
// when the file holds something new (an operator, or a secrets manager,
// writes a fresh token there and the worker takes it without a restart).
package tokenfile

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// MaxBytes bounds a token file: tokens are short, and a path that points
// at something else by mistake must not be read whole.
const MaxBytes = 64 << 10

// Read reads a token file: exactly one non-empty line.
func Read(path string) (string, error) {
	if path == "" {
		return "", errors.New("no access token and no token file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	b := make([]byte, MaxBytes+1)
	n, _ := f.Read(b)
	if n > MaxBytes {
		return "", fmt.Errorf("token file %s: larger than %d bytes", path, MaxBytes)
	}
	tok := strings.TrimSpace(string(b[:n]))
	switch {
	case tok == "":
		return "", fmt.Errorf("token file %s: the file is empty", path)
	case strings.ContainsAny(tok, " \t\r\n"):
		return "", fmt.Errorf("token file %s: must hold one token on one line", path)
	}
	return tok, nil
}

// Watcher follows one token file by its modification time and size.
type Watcher struct {
	Path string
	// Reread is how often the file is read again although it seems
	// unchanged, when the caller asks (an editor may keep mtime and size).
	Reread time.Duration

	mod      time.Time
	size     int64
	lastRead time.Time
}

// Next reads the file when it changed since the last look (or, with
// stale, when Reread has passed since it was last read) and returns its
// token; ok is false when there is nothing new to read or it is unreadable.
func (w *Watcher) Next(stale bool) (tok string, ok bool) {
	fi, err := os.Stat(w.Path)
	if err != nil {
		return "", false
	}
	changed := !fi.ModTime().Equal(w.mod) || fi.Size() != w.size
	if !changed && !(stale && time.Since(w.lastRead) >= w.Reread) {
		return "", false
	}
	w.mod, w.size, w.lastRead = fi.ModTime(), fi.Size(), time.Now()
	tok, err = Read(w.Path)
	return tok, err == nil
}
