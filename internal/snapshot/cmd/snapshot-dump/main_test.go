package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/snapshot"
)

func TestWritesTheMatchingKeysWithTheNote(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	prefix := redistest.Unique(t, "dumptool")
	rdb.HSet(context.Background(), prefix+":a", "state", "done")
	rdb.Set(context.Background(), redistest.Unique(t, "elsewhere"), "x", 0)
	out := filepath.Join(t.TempDir(), "snap.json")
	var stdout strings.Builder
	if err := run([]string{"-redis", srv.URL(), "-out", out, "-patterns", prefix + ":*", "-note", "by the test"}, &stdout); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 1 || s.Keys[0].Key != prefix+":a" || s.Note != "by the test" || s.Patterns[0] != prefix+":*" {
		t.Errorf("file holds %+v, want only %s:a with the note and pattern", s, prefix)
	}
	if !strings.Contains(stdout.String(), "1 keys written to "+out) {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestRefusesMissingFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-out", "x"}, "-redis: required"},
		{[]string{"-redis", "redis://127.0.0.1:1"}, "-out: required"},
		{[]string{"-redis", "redis://127.0.0.1:1", "-out", "x", "-patterns", " , "}, "-patterns"},
		{[]string{"-redis", "nope://x", "-out", "x"}, "-redis nope://x"},
		{[]string{"-redis", "redis://127.0.0.1:1", "-out", "x", "stray"}, `unexpected argument "stray"`},
	} {
		err := run(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %q: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
}
