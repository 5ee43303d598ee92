package addrlist_test

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

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

// 21.7: a FIFO, a process's own descriptor (/dev/stdout is one) and a
// symbolic link are written in place: never replaced by a renamed file.
func TestRejectsFileInPlace(t *testing.T) {
	dir := t.TempDir()

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo) // blocks until the writer opens
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	writeRejectsTo(t, fifo, "through the fifo\n")
	select {
	case s := <-got:
		if s != "through the fifo\n" {
			t.Errorf("the FIFO's reader got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the FIFO's reader got nothing")
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", st.Mode(), err)
	}

	// A redirected stdout: the rejects go after what the process wrote, at
	// the descriptor's offset, not over it from offset 0.
	out, err := os.Create(filepath.Join(dir, "stdout.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	out.WriteString("summary before\n")
	writeRejectsTo(t, "/proc/self/fd/"+strconv.Itoa(int(out.Fd())), "rejects\n")
	out.WriteString("summary after\n")
	if b, _ := os.ReadFile(out.Name()); string(b) != "summary before\nrejects\nsummary after\n" {
		t.Errorf("redirected output: %q", b)
	}

	// A link to a regular file: the file is replaced, the link stays.
	real := filepath.Join(dir, "real.csv")
	link := filepath.Join(dir, "link.csv")
	os.WriteFile(real, []byte("old\n"), 0o600)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	writeRejectsTo(t, link, "new\n")
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v", err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new\n" {
		t.Errorf("the linked file holds %q", b)
	}
}

func writeRejectsTo(t *testing.T, path, text string) {
	t.Helper()
	rf, err := addrlist.CreateRejectsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rf.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}
}
