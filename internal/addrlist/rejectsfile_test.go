package addrlist_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

func TestRejectsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(path, []byte("old rejects\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No rejects: the earlier file stays, nothing else is left behind.
	rf, err := addrlist.CreateRejectsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old rejects\n" {
		t.Errorf("file after an import without rejects: %q", b)
	}
	// Rejects: they replace it.
	rf, _ = addrlist.CreateRejectsFile(path)
	if _, err := rf.Write([]byte("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := rf.Close(); err != nil || rf.Close() != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new\n" {
		t.Errorf("file after an import with rejects: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only r.csv", len(entries))
	}
}

// Tests run as root, so permissions cannot make creation fail: a parent that
// is a file, or does not exist, does.
func TestRejectsFileCannotBeCreated(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(file, "r.csv"), filepath.Join(dir, "missing", "r.csv"), dir} {
		_, err := addrlist.CreateRejectsFile(path)
		if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp") {
			t.Errorf("%s: error %v, want one naming the path (not the temporary file)", path, err)
		}
	}
}
