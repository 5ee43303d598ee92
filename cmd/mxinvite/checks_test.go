package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/schedule"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// 12.5: inputs are checked where they are given — exit 2, one line naming
// the flag or file, nothing written.
func TestInputsCheckedWhereGiven(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("list.txt", "alice@example.org\n")
	binary := e.file("members.xlsx", "PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00")
	past := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	add := func(extra ...string) []string {
		return join([]string{"schedule", "add", "--campaign", "weekly", "--cron", "@daily", "--room", simulator.DefaultRoomID,
			"--file", list}, e.redisArgs(), extra)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{e.enqueueArgs("spring", list, "--at", past), "--at " + past + ": is 2h"},
		{join([]string{"invite", "--room", simulator.DefaultRoomID, "--campaign", "c", "--address", "a@example.org", "--at", past}, e.redisArgs()), "--allow-past"},
		{e.enqueueArgs("spring", binary), "--file " + binary + ": unusable address list: addrlist: not a text file: it is a ZIP archive"},
		{add("--room", "garbage"), `--room "garbage"`},
		{add("--medium", "fax"), "--medium"},
		{add("--cron", "someday"), "--cron"},
		{add("--file", filepath.Join(e.dir, "missing.txt")), "--file"},
		{add("--file", binary), "--file " + binary},
		{add("--file", "-"), "--file -"},
		{add("--campaign", ""), "--campaign"},
		{add("--rejects", filepath.Join(e.dir, "missing", "r.txt")), "--rejects"},
	} {
		r := mxinvite(t, tc.args...)
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line containing %q", tc.args[:2], r.code, r.stdout, r.stderr, tc.want)
		}
	}
	if k := e.keys(); len(k) != 0 {
		t.Fatalf("keys written by refused commands: %v", k)
	}
	// --allow-past sends now: nothing is scheduled.
	r := mxinvite(t, e.enqueueArgs("spring", list, "--at", past, "--allow-past")...)
	if r.code != 0 || !strings.Contains(r.stdout, "enqueued 1,") || strings.Contains(r.stdout, "scheduled") {
		t.Fatalf("--allow-past: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// 12.5: schedule list has a header, the next and the last tick; a tick's
// rejects are where schedule add said they would be.
func TestScheduleListShowsTicksAndRejects(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("members.csv", "name,email\nAlice,alice@example.org\nBob,bob(at)example.org\n")
	r := mxinvite(t, join([]string{"schedule", "add", "--campaign", "weekly", "--cron", "0 9 * * 1", "--room", simulator.DefaultRoomID,
		"--file", list}, e.redisArgs())...)
	rejects := filepath.Join(e.dir, "members.rejects.csv")
	if r.code != 0 || !strings.Contains(r.stdout, "each tick's rejected rows go to "+rejects) {
		t.Fatalf("schedule add: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = mxinvite(t, join([]string{"schedule", "list"}, e.redisArgs())...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	next := nextMonday9(time.Now().UTC()).Format(time.RFC3339)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "CAMPAIGN  CRON ") || !strings.Contains(lines[0], "NEXT TICK") ||
		!strings.Contains(lines[1], next) || !strings.Contains(lines[1], "never") {
		t.Fatalf("schedule list before a tick (next %s):\n%s", next, r.stdout)
	}

	// A tick, as the scheduler fires it.
	store := schedule.NewStore(rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}))
	campaigns, err := store.List(context.Background())
	if err != nil || len(campaigns) != 1 {
		t.Fatalf("%v %v", campaigns, err)
	}
	tick := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	runner := &schedule.Runner{Store: store, Import: schedule.ImportWith(producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}), e.queue), nil), Owner: "test"}
	if _, err := runner.Fire(context.Background(), campaigns[0], tick); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(rejects); err != nil || !strings.Contains(string(b), "bob(at)example.org") {
		t.Fatalf("tick rejects (%v): %q", err, b)
	}
	r = mxinvite(t, join([]string{"schedule", "list"}, e.redisArgs())...)
	if !strings.Contains(r.stdout, tick.Format(time.RFC3339)+"  enqueued 1, already queued 0, already done 0, rejected 1") ||
		!strings.Contains(r.stdout, rejects) {
		t.Fatalf("schedule list after a tick:\n%s", r.stdout)
	}
	r = mxinvite(t, join([]string{"schedule", "list", "--json"}, e.redisArgs())...)
	var entries []struct {
		NextTick time.Time `json:"next_tick"`
		LastTick struct {
			At      time.Time `json:"at"`
			Rejects string    `json:"rejects"`
		} `json:"last_tick"`
	}
	err = json.Unmarshal([]byte(r.stdout), &entries)
	if err == nil && len(entries) != 1 {
		err = fmt.Errorf("%d entries, want 1", len(entries))
	}
	if err != nil {
		t.Fatalf("schedule list --json: %s (%v)", r.stdout, err)
	}
	entry := entries[0]
	if !entry.LastTick.At.Equal(tick) ||
		entry.LastTick.Rejects != rejects || entry.NextTick.Format(time.RFC3339) != next {
		t.Fatalf("schedule list --json: %s (%v)", r.stdout, err)
	}
}

// nextMonday9 is the next "0 9 * * 1" after now.
func nextMonday9(now time.Time) time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, time.UTC)
	for t.Weekday() != time.Monday || !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}
