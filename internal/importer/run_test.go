package importer

import (
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/tasks"
)

func TestGoodBadAndDuplicateRows(t *testing.T) {
	e := newTestEnv(t)
	opts := e.opts()
	opts.Medium = tasks.MediumEmail
	st, rejects := e.runFile(opts, "good_bad_dups.csv")
	wantStats(t, st, 15, 12, 10, 2, 0, 0, 3)

	if got := e.queueInfo().Pending; got != 10 {
		t.Fatalf("asynq queue holds %d pending tasks, want 10", got)
	}
	want := []string{"alice@example.org", "bob.builder@example.com", "carol+news@mail.example.co.uk",
		"dave@example.net", "erin@sub.example.org", "frank@example.org", "grace@example.io",
		"heidi@xn--bcher-kva.example", "ivan@example.org", "judy@example.org"}
	if got := e.addresses("spring"); !slices.Equal(got, want) {
		t.Fatalf("records %q\nwant %q", got, want)
	}

	records, err := csv.NewReader(strings.NewReader(rejects)).ReadAll()
	if err != nil {
		t.Fatalf("rejects file is not CSV: %v\n%s", err, rejects)
	}
	if len(records) != 4 || !slices.Equal(records[0], []string{"email", "name", "city", "line", "reason"}) {
		t.Fatalf("rejects file:\n%s", rejects)
	}
	wantRejects := []struct{ line, email, reason string }{
		{"7", "not-an-email.example.org", "bad syntax"},
		{"11", "", "empty address"},
		{"14", "'+44 20 7946 0958", "wrong medium"}, // neutralised for spreadsheets (csvsafe)
	}
	for i, w := range wantRejects {
		r := records[i+1]
		if r[0] != w.email || r[3] != w.line || !strings.Contains(r[4], w.reason) {
			t.Errorf("reject %d: %q, want email %q line %s reason containing %q", i+1, r, w.email, w.line, w.reason)
		}
	}

	// The same file again, as a new import: nothing is sent twice.
	st, _ = e.runFile(opts, "good_bad_dups.csv")
	wantStats(t, st, 15, 12, 0, 2, 10, 0, 3)
	if got := e.queueInfo().Pending; got != 10 {
		t.Fatalf("after the second import the queue holds %d tasks, want 10", got)
	}
}

func TestMailmanList(t *testing.T) {
	e := newTestEnv(t)
	opts := e.opts()
	opts.Medium = tasks.MediumEmail
	st, rejects := e.runFile(opts, "mailman.txt")
	wantStats(t, st, 9, 7, 7, 0, 0, 0, 2)
	want := []string{"alice@example.org", "bob.builder@example.com", "carol@example.org", "dave@example.org",
		"first.last@example.net", "frank#sales@example.org", "team1@example.org"}
	if got := e.addresses("spring"); !slices.Equal(got, want) {
		t.Fatalf("records %q\nwant %q", got, want)
	}
	lines := strings.Split(strings.TrimSpace(rejects), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "not an address  # line 12: bad syntax") ||
		!strings.HasPrefix(lines[1], "+44 20 7946 0958  # line 14: wrong medium") {
		t.Fatalf("rejects:\n%s", rejects)
	}
}

func TestSameAddressManyTimesIsOneInvite(t *testing.T) {
	e := newTestEnv(t)
	opts := e.opts()
	opts.BatchSize, opts.Workers = 3, 8 // the copies race each other in different batches
	list := "email\n" + strings.Repeat("same@Example.org\nsame@example.ORG\n", 50)
	st, _ := e.run(opts, strings.NewReader(list))
	wantStats(t, st, 100, 100, 1, 99, 0, 0, 0)
	if got := e.queueInfo().Pending; got != 1 {
		t.Fatalf("queue holds %d tasks, want 1", got)
	}
}

func TestStreamsGeneratedList(t *testing.T) {
	rows, bad := 200_000, 1000
	if testing.Short() {
		rows = 20_000
	}
	e := newTestEnv(t)
	start := time.Now()
	// A generous limit: with -race on a busy 2-core machine this takes ~45 s.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var rejectsBuf strings.Builder
	st, err := Run(ctx, e.opts(), generated(rows, bad), &rejectsBuf, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	rejects := rejectsBuf.String()
	n := int64(rows)
	wantStats(t, st, n, n-n/int64(bad), n-n/int64(bad), 0, 0, 0, n/int64(bad))
	if got := strings.Count(rejects, "\n"); got != rows/bad+1 {
		t.Fatalf("rejects file has %d lines, want %d", got, rows/bad+1)
	}
	if got := e.queueInfo().Pending; got != rows-rows/bad {
		t.Fatalf("queue holds %d tasks, want %d", got, rows-rows/bad)
	}
	t.Logf("%d rows in %s", rows, time.Since(start).Round(time.Millisecond))
}

func TestRedisFailureStopsTheImport(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = dead.Close() })
	opts := Options{Campaign: "spring", RoomID: testRoom, Producer: producer.New(rdb.New(dead, rdb.Options{Prefix: "mx"}), "q")}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := Run(ctx, opts, generated(1000, 0), nil, nil)
	if err == nil || st.Enqueued != 0 {
		t.Fatalf("Run against an unreachable Redis: stats %+v, err %v; want an error", st, err)
	}
}

func TestBadOptions(t *testing.T) {
	for name, opts := range map[string]Options{
		"no producer":  {Campaign: "c", RoomID: testRoom},
		"alias":        {Campaign: "c", RoomID: "#alias:test", DryRun: true},
		"no campaign":  {RoomID: testRoom, DryRun: true},
		"neg spread":   {Campaign: "c", RoomID: testRoom, DryRun: true, Spread: -time.Second},
		"bad idserver": {Campaign: "c", RoomID: testRoom, DryRun: true, IDServer: "https://id.example.org"},
	} {
		if _, err := Run(context.Background(), opts, strings.NewReader("a@example.org\n"), nil, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
