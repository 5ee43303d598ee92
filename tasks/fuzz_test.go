package tasks_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mxinvite/mxinvite/tasks"
)

// fuzzSeedDir holds the project's shared seed payloads. Go only looks in the
// package's own testdata/fuzz, so the seeds are added by hand.
const fuzzSeedDir = "../testdata/fuzz/FuzzDecodeInvite"

func FuzzDecodeInvite(f *testing.F) {
	f.Add([]byte(`{"campaign":"c","room_id":"!r:example.org","medium":"email","address":"a@example.org","sender":"default","enqueued_at":"2025-03-01T12:00:00Z"}`))
	f.Add([]byte(`{"campaign":"c","room_id":"!r:e.org","medium":"msisdn","address":"442079460958","id_server":"[::1]:8090","sender":"s","enqueued_at":"0001-01-01T00:30:00+01:00","generation":7}`))
	f.Add([]byte(`{"campaign":null}`))
	f.Add([]byte(`[]`))
	files, err := filepath.Glob(filepath.Join(fuzzSeedDir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed payloads in %s (%v)", fuzzSeedDir, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, payload []byte) {
		inv, err := tasks.DecodeInvite(payload)
		if err != nil {
			if !errors.Is(err, tasks.ErrInvalid) {
				t.Fatalf("error %v does not match ErrInvalid", err)
			}
			return
		}
		if err := inv.Validate(); err != nil {
			t.Fatalf("decoded invite does not validate: %v\n%+v", err, inv)
		}
		again, err := inv.Payload()
		if err != nil {
			t.Fatalf("decoded invite does not re-encode: %v\n%+v", err, inv)
		}
		redecoded, err := tasks.DecodeInvite(again)
		if err != nil {
			t.Fatalf("re-encoded invite does not decode: %v\n%s", err, again)
		}
		if redecoded != inv {
			t.Fatalf("round trip changed the invite:\n got %+v\nwant %+v", redecoded, inv)
		}
		if redecoded.TaskID() != inv.TaskID() {
			t.Fatalf("round trip changed the task ID")
		}
	})
}
