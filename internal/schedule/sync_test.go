package schedule

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

// A recurring campaign enqueues only the addresses added since its last tick.
func TestSecondTickEnqueuesOnlyNewAddresses(t *testing.T) {
	r := redistest.Start(t)
	conn := r.Client(t)
	prefix, queue := redistest.Unique(t, "mx"), redistest.Unique(t, "q")
	prod := producer.New(rdb.New(conn, rdb.Options{Prefix: prefix}), queue)
	store := NewStore(rdb.New(conn, rdb.Options{Prefix: prefix}))
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
	_ = prod.Store().Results(context.Background(), "members", func(r record.Result) error {
		got[r.Address] = true
		return nil
	})
	for _, a := range []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org"} {
		if !got[a] {
			t.Fatalf("invites %v: %s missing", got, a)
		}
	}
}

// A tick's rejects go to the campaign's rejects file, and the tick is
// recorded for schedule list; a rejects file that cannot be created stops
// the tick before anything is enqueued.
func TestTickRejectsAndRecord(t *testing.T) {
	r := redistest.Start(t)
	conn := r.Client(t)
	prefix, queue := redistest.Unique(t, "mx"), redistest.Unique(t, "q")
	prod := producer.New(rdb.New(conn, rdb.Options{Prefix: prefix}), queue)
	store := NewStore(rdb.New(conn, rdb.Options{Prefix: prefix}))
	dir := t.TempDir()
	list := filepath.Join(dir, "members.txt")
	if err := os.WriteFile(list, []byte("a@example.org\nnot an address\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Campaign{Name: "members", Cron: "@daily", RoomID: "!room:example.org", File: list,
		Rejects: filepath.Join(dir, "members.rejects.txt")}
	if err := store.Add(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	run := &Runner{Store: store, Import: ImportWith(prod, nil), Owner: "test"}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := run.Fire(context.Background(), c, day); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(c.Rejects); err != nil || !strings.HasPrefix(string(b), "not an address  # line 2: bad syntax") {
		t.Fatalf("rejects file (%v): %q", err, b)
	}
	ticks, err := store.LastTicks(context.Background())
	if tk := ticks["members"]; err != nil || !tk.At.Equal(day) || tk.Stats.Enqueued != 1 || tk.Stats.Rejected != 1 || tk.Rejects != c.Rejects || tk.Error != "" {
		t.Fatalf("last tick %+v (%v)", tk, err)
	}

	c.Rejects = filepath.Join(list, "rejects.txt") // under a file: cannot be created
	if err := os.WriteFile(list, []byte("b@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run.Fire(context.Background(), c, day.Add(24*time.Hour)); err == nil || !strings.Contains(err.Error(), c.Rejects) {
		t.Fatalf("tick with an unwritable rejects file: %v", err)
	}
	if counts, _ := prod.Store().Counts(context.Background(), "members"); counts.Enqueued != 1 {
		t.Errorf("%d invites after the failed tick, want 1: nothing may be enqueued", counts.Enqueued)
	}
	ticks, _ = store.LastTicks(context.Background())
	if tk := ticks["members"]; !strings.Contains(tk.Error, "nothing was enqueued") {
		t.Errorf("failed tick recorded as %+v", tk)
	}
	if ok, _ := store.Remove(context.Background(), "members"); !ok {
		t.Fatal("remove")
	}
	if ticks, _ = store.LastTicks(context.Background()); len(ticks) != 0 {
		t.Errorf("ticks left after remove: %+v", ticks)
	}
}
