package schedule

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/worker"
)

// A recurring campaign enqueues only the addresses added since its last tick.
func TestSecondTickEnqueuesOnlyNewAddresses(t *testing.T) {
	r := redistest.Start(t)
	rdb := r.Client(t)
	prefix, queue := redistest.Unique(t, "mx"), redistest.Unique(t, "q")
	prod := worker.NewProducer(rdb, prefix, queue)
	store := NewStore(rdb, prefix)
	list := filepath.Join(t.TempDir(), "members.txt")
	write := func(lines string) {
		if err := os.WriteFile(list, []byte(lines), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("a@example.org\nb@example.org\nc@example.org\n")
	c := Campaign{Name: "members", Cron: "@daily", RoomID: "!room:example.org", File: list, Medium: "email"}
	if err := store.Add(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	run := &Runner{Store: store, Import: ImportWith(prod, nil), Owner: "test"}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

	if fired, err := run.Fire(context.Background(), c, day); !fired || err != nil {
		t.Fatalf("first tick: fired %v, err %v", fired, err)
	}
	write("a@example.org\nb@example.org\nc@example.org\nd@example.org\n# joined this week\nE@Example.ORG\n")
	if fired, err := run.Fire(context.Background(), c, day.Add(24*time.Hour)); !fired || err != nil {
		t.Fatalf("second tick: fired %v, err %v", fired, err)
	}
	counts, err := prod.Store().Counts(context.Background(), "members")
	if err != nil {
		t.Fatal(err)
	}
	if counts.Enqueued != 5 {
		t.Fatalf("%d invites registered after two ticks, want 5 (3 + 2 new)", counts.Enqueued)
	}
	got := map[string]bool{}
	_ = prod.Store().Results(context.Background(), "members", func(r worker.Result) error {
		got[r.Address] = true
		return nil
	})
	for _, a := range []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org", "E@example.org"} {
		if !got[a] {
			t.Fatalf("invites %v: %s missing", got, a)
		}
	}
}
