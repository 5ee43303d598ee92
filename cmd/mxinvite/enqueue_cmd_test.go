package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

func TestEnqueueHappyPath(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	rejects := filepath.Join(e.dir, "rejects.csv")
	r := mxinvite(t, join([]string{"enqueue"}, e.redisArgs(), e.profileArgs(), []string{
		"--room", simulator.DefaultRoomAlias, "--campaign", "spring",
		"--file", listPath("good_bad_dups.csv"), "--rejects", rejects,
	})...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	want := "list: csv (utf-8): column \"email\" (found by its name), one row per address (a cell may hold a list); " +
		"medium email (--medium msisdn for a phone campaign)\n" +
		"campaign spring, room !room:sim.local: read 15, valid 12, enqueued 10, duplicates 2, " +
		"already queued 0, already done 0, rejected 3; rejects in " + rejects + "\n"
	if r.stdout != want {
		t.Fatalf("stdout\n%q\nwant\n%q", r.stdout, want)
	}
	if strings.Count(r.stderr, "✓ ") != 5 || strings.Contains(r.stderr, "✗") {
		t.Errorf("preflight checks on stderr:\n%s", r.stderr)
	}
	if n := e.queueSize(); n != 10 {
		t.Errorf("queue holds %d tasks, want 10", n)
	}
	f, err := os.Open(rejects)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 4 || rows[1][3] != "7" || rows[2][3] != "11" || rows[3][3] != "14" {
		t.Fatalf("rejects file (%v): %q", err, rows)
	}

	// Again, as JSON: every row is known now.
	r = mxinvite(t, join([]string{"enqueue", "--json", "--no-preflight"}, e.redisArgs(), e.profileArgs(), []string{
		"--room", simulator.DefaultRoomAlias, "--campaign", "spring", "--file", listPath("good_bad_dups.csv"),
		"--rejects", rejects,
	})...)
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q (%v), stderr %s", r.code, r.stdout, err, r.stderr)
	}
	for k, v := range map[string]any{"read": 15.0, "valid": 12.0, "enqueued": 0.0, "duplicates": 2.0, "already_queued": 10.0,
		"already_done": 0.0, "rejected": 3.0, "room_id": simulator.DefaultRoomID, "campaign": "spring", "rejects_file": rejects} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, got[k], v, r.stdout)
		}
	}
}

func TestEnqueueBadFlags(t *testing.T) {
	list := listPath("good_bad_dups.csv")
	base := []string{"enqueue", "--room", "!room:sim.local", "--campaign", "spring", "--file", list,
		"--redis", "redis://127.0.0.1:1", "--no-preflight"} // nothing may be reached
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"enqueue", "--campaign", "spring", "--file", list}, "room"},
		{[]string{"enqueue", "--room", "!r:x", "--campaign", "spring"}, "file"},
		{append(base, "--bogus"), "bogus"},
		{append(base, "--medium", "fax"), "--medium"},
		{append(base, "--spread", "-1m"), "--spread"},
		{append(base, "--spread", "soon"), "spread"},
		{append(base, "--at", "tomorrow"), "--at"},
		{append(base, "--at", "2030-01-01T00:00:00Z", "--in", "1h"), "--in"},
		{append(base, "--in", "-5m"), "--in"},
		{append(base, "--rejects", list), "--rejects"},
		{append(base, "--concurrency", "0"), "--concurrency"},
		{append(base, "--campaign", ""), "--campaign"},
		{append(base, "--id-server", "https://id.example.org"), "--id-server"},
		{append(base, "--room", "room-name"), "--room \"room-name\""},
		{append(base, "--file", "/does/not/exist.csv"), "--file"},
	} {
		r := mxinvite(t, tc.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != exitUsage || len(lines) != 1 || !strings.Contains(r.stderr, tc.flag) || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line naming %q",
				tc.args[1:], r.code, r.stdout, r.stderr, tc.flag)
		}
	}
}

func TestEnqueueUnknownColumnIsUsageError(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	r := mxinvite(t, join([]string{"enqueue", "--no-preflight"}, e.redisArgs(), []string{
		"--room", simulator.DefaultRoomID, "--campaign", "spring", "--file", listPath("good_bad_dups.csv"), "--column", "mail",
	})...)
	if r.code != exitUsage || !strings.Contains(r.stderr, `column "mail" not found`) || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if k := e.keys(); len(k) != 0 {
		t.Fatalf("keys written: %v", k)
	}
}

func TestEnqueuePreflightFailureEnqueuesNothing(t *testing.T) {
	room := simulator.DefaultRoom()
	room.Members[simulator.DefaultUserID] = "leave"
	e := newCLIEnv(t, simulator.Config{Rooms: []simulator.Room{room}})
	r := mxinvite(t, join([]string{"enqueue"}, e.redisArgs(), e.profileArgs(), []string{
		"--room", simulator.DefaultRoomAlias, "--campaign", "spring", "--file", listPath("good_bad_dups.csv"),
	})...)
	if r.code != exitPreflight || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "✗ membership: @inviter:sim.local is not joined to !room:sim.local") ||
		!strings.Contains(r.stderr, "nothing was enqueued") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if k := e.keys(); len(k) != 0 {
		t.Fatalf("keys written although the preflight failed: %v", k)
	}
	if _, err := os.Stat(strings.TrimSuffix(listPath("good_bad_dups.csv"), ".csv") + ".rejects.csv"); err == nil {
		t.Errorf("a rejects file was written although the preflight failed")
	}
}

func TestEnqueueDryRunWritesNothing(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("list.txt", "alice@example.org\nbob@example.org\nalice@example.org\nnot an address\n")
	r := mxinvite(t, join([]string{"enqueue", "--dry-run"}, e.redisArgs(), e.profileArgs(), []string{
		"--room", simulator.DefaultRoomAlias, "--campaign", "spring", "--file", list, "--spread", "1h",
	})...)
	if r.code != 0 || !strings.Contains(r.stdout, "dry run: read 4, valid 3, would enqueue 2, duplicates 1, already queued 0, already done 0, rejected 1") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if k := e.keys(); len(k) != 0 {
		t.Fatalf("a dry run wrote %v", k)
	}
	rejects, err := os.ReadFile(filepath.Join(e.dir, "list.rejects.txt"))
	if err != nil || !strings.HasPrefix(string(rejects), "not an address  # line 4: bad syntax") {
		t.Fatalf("default rejects file (%v): %q", err, rejects)
	}
}

func TestEnqueueStdinSpread(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	var stdout, stderr strings.Builder
	app := newApp(&stdout, &stderr)
	app.Reader = strings.NewReader("a@example.org\nb@example.org\nc@example.org\nd@example.org\n")
	at := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	err := app.Run(context.Background(), join([]string{"mxinvite", "enqueue", "--no-preflight"}, e.redisArgs(), []string{
		"--room", simulator.DefaultRoomID, "--campaign", "spring", "--file", "-",
		"--at", at.Format(time.RFC3339), "--spread", "10m",
	}))
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	window := fmt.Sprintf("scheduled %s … %s", at.Format(time.RFC3339), at.Add(450*time.Second).Format(time.RFC3339))
	if !strings.Contains(stdout.String(), "enqueued 4,") || !strings.Contains(stdout.String(), window) {
		t.Fatalf("stdout %q, want 4 enqueued, %s", stdout.String(), window)
	}
	tasks, err := asynq.NewInspectorFromRedisClient(e.rdb).ListScheduledTasks(e.laneOf("spring"))
	if err != nil || len(tasks) != 4 {
		t.Fatalf("%d scheduled tasks (%v)", len(tasks), err)
	}
	var got []time.Time
	for _, task := range tasks {
		got = append(got, task.NextProcessAt.UTC())
	}
	slices.SortFunc(got, time.Time.Compare)
	for i, g := range got {
		if want := at.Add(time.Duration(i) * 150 * time.Second); !g.Equal(want) {
			t.Errorf("task %d at %s, want %s", i, g, want)
		}
	}
}
