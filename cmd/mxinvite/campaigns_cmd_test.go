package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestCampaignsListsThemAndUnknownOnesAreRefused: mxinvite campaigns shows
// each campaign's room, sender, creation time, counts and state (text and
// --json); status, cancel, retry and results refuse a campaign that does not
// exist with exit 2 naming it, and results writes no --output file for it.
func TestCampaignsListsThemAndUnknownOnesAreRefused(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	room := simulator.DefaultRoomID
	start := time.Now().Add(-time.Second)
	enqueue := func(campaign, file string, extra ...string) {
		t.Helper()
		r := mxinvite(t, join([]string{"enqueue", "--no-preflight", "--room", room, "--campaign", campaign,
			"--file", file}, e.redisArgs(), extra)...)
		if r.code != 0 {
			t.Fatalf("enqueue %s: exit %d %s %s", campaign, r.code, r.stdout, r.stderr)
		}
	}
	if r := mxinvite(t, join([]string{"campaigns", "--json"}, e.redisArgs())...); r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("campaigns --json with none: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	enqueue("sent", e.file("sent.txt", addressList(3, "sent.example")))
	e.runWorker()
	enqueue("later", e.file("later.txt", addressList(2, "later.example")), "--in", "1h")
	enqueue("dropped", e.file("dropped.txt", addressList(4, "dropped.example")), "--in", "1h")
	if r := mxinvite(t, join([]string{"cancel", "--campaign", "dropped"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("cancel: exit %d %s", r.code, r.stderr)
	}
	// Registered again later: created_at stays the first registration's.
	time.Sleep(10 * time.Millisecond)
	enqueue("sent", e.file("more.txt", addressList(1, "more.example")), "--in", "1h")

	r := mxinvite(t, join([]string{"campaigns", "--json"}, e.redisArgs())...)
	if r.code != 0 {
		t.Fatalf("campaigns --json: exit %d %s", r.code, r.stderr)
	}
	var list []record.CampaignInfo
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("campaigns --json: %v\n%s", err, r.stdout)
	}
	want := []struct {
		name               string
		state              record.CampaignState
		enqueued, pending  int
		done, cancelledNum int
	}{
		{"dropped", record.CampaignCancelled, 4, 0, 0, 4},
		{"later", record.CampaignScheduled, 2, 2, 0, 0},
		{"sent", record.CampaignScheduled, 4, 1, 3, 0},
	}
	if len(list) != len(want) {
		t.Fatalf("campaigns: %d listed, want %d:\n%s", len(list), len(want), r.stdout)
	}
	var createdSent time.Time
	for i, w := range want {
		c := list[i]
		if c.Name != w.name || c.State != w.state || c.Counts.Enqueued != w.enqueued || c.Counts.Pending() != w.pending ||
			c.Counts.States[record.StateDone] != w.done || c.Counts.States[record.StateCancelled] != w.cancelledNum {
			t.Errorf("campaign %d: %+v, want %+v", i, c, w)
		}
		if c.RoomID != room || c.Sender != "default" || c.Medium != "email" {
			t.Errorf("campaign %s: room %q sender %q medium %q", c.Name, c.RoomID, c.Sender, c.Medium)
		}
		if c.CreatedAt.Before(start) || c.CreatedAt.After(time.Now()) {
			t.Errorf("campaign %s: created_at %v, want between %v and now", c.Name, c.CreatedAt, start)
		}
		if c.Name == "sent" {
			createdSent = c.CreatedAt
		}
	}
	if later := list[1].CreatedAt; !createdSent.Before(later) {
		t.Errorf("campaign sent: created_at %v is not its first registration's (before later's %v)", createdSent, later)
	}

	text := mxinvite(t, join([]string{"campaigns"}, e.redisArgs())...)
	lines := strings.Split(strings.TrimSpace(text.stdout), "\n")
	if text.code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "CAMPAIGN") {
		t.Fatalf("campaigns: exit %d\n%s", text.code, text.stdout)
	}
	if f := strings.Fields(lines[1]); len(f) != 10 || f[0] != "dropped" || f[1] != "cancelled" || f[2] != room ||
		f[6] != "4" || f[9] != "4" {
		t.Errorf("campaigns line %q", lines[1])
	}

	out := filepath.Join(e.dir, "results.jsonl")
	for _, args := range [][]string{
		{"status", "--campaign", "nosuch"},
		{"status", "--campaign", "nosuch", "--watch"},
		{"cancel", "--campaign", "nosuch"},
		{"retry", "--campaign", "nosuch", "--status", "101"},
		{"results", "--campaign", "nosuch", "-o", out},
	} {
		r := mxinvite(t, join(args, e.redisArgs())...)
		if r.code != exitUsage || !strings.Contains(r.stderr, `--campaign "nosuch": no such campaign`) ||
			strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming the campaign", args[0], r.code, r.stderr)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("results for an unknown campaign created %s (%v)", out, err)
	}

	// A campaign registered before campaigns had a meta hash is known by
	// its name in the campaign set.
	if err := e.rdb.SAdd(context.Background(), e.prefix+":campaigns", "legacy").Err(); err != nil {
		t.Fatal(err)
	}
	if r := mxinvite(t, join([]string{"status", "--campaign", "legacy"}, e.redisArgs())...); r.code != 0 ||
		!strings.HasPrefix(r.stdout, "campaign legacy: 0 enqueued, 0 pending, 0 done, 0 cancelled") {
		t.Errorf("status of a campaign without meta: exit %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := mxinvite(t, join([]string{"campaigns"}, e.redisArgs())...); !strings.Contains(r.stdout, "legacy") {
		t.Errorf("campaigns does not list a campaign without meta:\n%s", r.stdout)
	}
}
