package schedule

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/importer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	r := redistest.Start(t)
	return NewStore(rdb.New(r.Client(t), rdb.Options{Prefix: redistest.Unique(t, "mx")}))
}

func TestAddListRemove(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	c := Campaign{Name: "weekly", Cron: "0 9 * * 1", RoomID: "!r:x.org", File: "/lists/members.csv"}
	if err := s.Add(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(ctx, Campaign{Name: "bad", Cron: "every tuesday", RoomID: "!r:x.org", File: "f"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad cron accepted: %v", err)
	}
	got, err := s.List(ctx)
	if err != nil || len(got) != 1 || got[0].Name != "weekly" || got[0].File != c.File {
		t.Fatalf("list %+v (%v)", got, err)
	}
	if ok, err := s.Remove(ctx, "weekly"); !ok || err != nil {
		t.Fatalf("remove: %v %v", ok, err)
	}
	if got, _ := s.List(ctx); len(got) != 0 {
		t.Fatalf("after remove: %+v", got)
	}
}

// Several schedulers: each tick fires once.
func TestTickFiresOnceAcrossSchedulers(t *testing.T) {
	s := newStore(t)
	var imports atomic.Int32
	imp := func(context.Context, Campaign) (importer.Stats, error) { imports.Add(1); return importer.Stats{}, nil }
	a := &Runner{Store: s, Import: imp, Owner: "a"}
	b := &Runner{Store: s, Import: imp, Owner: "b"}
	c := Campaign{Name: "c", Cron: "@every 1m", RoomID: "!r:x.org", File: "f"}
	tick := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fa, _ := a.Fire(context.Background(), c, tick)
	fb, _ := b.Fire(context.Background(), c, tick)
	if fa == fb || imports.Load() != 1 {
		t.Fatalf("fired a=%v b=%v, imports %d; want exactly one", fa, fb, imports.Load())
	}
	if ok, _ := b.Fire(context.Background(), c, tick.Add(time.Minute)); !ok || imports.Load() != 2 {
		t.Fatal("the next tick did not fire")
	}
}

// Two runners on an @every 1s schedule: ticks fire, each once.
func TestRunnersFireEveryTickOnce(t *testing.T) {
	s := newStore(t)
	if err := s.Add(context.Background(), Campaign{Name: "fast", Cron: "@every 1s", RoomID: "!r:x.org", File: "f"}); err != nil {
		t.Fatal(err)
	}
	var imports atomic.Int32
	imp := func(context.Context, Campaign) (importer.Stats, error) { imports.Add(1); return importer.Stats{}, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer cancel()
	done := make(chan struct{}, 2)
	for _, owner := range []string{"a", "b"} {
		r := &Runner{Store: s, Import: imp, Owner: owner, Poll: 50 * time.Millisecond}
		go func() { _ = r.Run(ctx); done <- struct{}{} }()
	}
	<-done
	<-done
	// "@every 1s" ticks fall on whole seconds, the same for both runners:
	// about 3 ticks in 3.5 s, each fired once (without the claim, about 6).
	n := imports.Load()
	if n < 2 || n > 4 {
		t.Fatalf("%d imports in 3.5 s; want 2..4 (one per tick)", n)
	}
}

// A recurring campaign keeps a room ID of either form as given, and
// refuses anything else.
func TestCampaignRoomIDForms(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const v12 = "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"
	if err := s.Add(ctx, Campaign{Name: "v12", Cron: "@daily", RoomID: v12, File: "f"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"#alias:x.org", "!short", v12 + "x"} {
		if err := s.Add(ctx, Campaign{Name: "bad", Cron: "@daily", RoomID: bad, File: "f"}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "room version 12") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	got, err := s.List(ctx)
	if err != nil || len(got) != 1 || got[0].RoomID != v12 {
		t.Fatalf("list %+v (%v)", got, err)
	}
}
