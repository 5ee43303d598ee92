package main

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/tasks"
)

// status shows an invite held by a worker whose heartbeat has lapsed as
// "recovering", not "active" (issue 23); the counts still add up.
func TestStatusShowsADeadWorkersInvitesAsRecovering(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	ctx := t.Context()
	var invs []tasks.Invite
	for _, a := range []string{"a@example.org", "b@example.org"} {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: "crash", RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: a})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}), e.queue).Enqueue(ctx, inv, producer.Options{}); err != nil {
			t.Fatal(err)
		}
		invs = append(invs, inv)
	}
	dead := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix, WorkerID: "dead-worker"})
	live := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix, WorkerID: "live-worker"})
	for _, w := range []*rdb.Client{dead, live} {
		if err := w.Heartbeat(ctx, map[*rdb.Client]string{dead: "dead-worker", live: "live-worker"}[w], rdb.WorkerTTL); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := dead.Begin(ctx, invs[0], rdb.BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := live.Begin(ctx, invs[1], rdb.BeginOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := dead.Leave(ctx, "dead-worker"); err != nil { // as if its beat had lapsed
		t.Fatal(err)
	}
	c := statusCounts(t, e, "crash", "a worker died")
	if c.States[record.StateRecovering] != 1 || c.States[record.StateActive] != 1 {
		t.Errorf("status --json states %v; want 1 recovering, 1 active", c.States)
	}
	text := mxinvite(t, join([]string{"status", "--campaign", "crash"}, e.redisArgs())...)
	if !regexpLine(text.stdout, "recovering", "1") {
		t.Errorf("status prints\n%s\nwant a line recovering 1", text.stdout)
	}
	if r := mxinvite(t, join([]string{"campaigns", "--json"}, e.redisArgs())...); !strings.Contains(r.stdout, `"recovering":1`) {
		t.Errorf("campaigns --json does not show the recovering invite:\n%s", r.stdout)
	}
}

// regexpLine reports whether text has a line of the two words with spaces
// between.
func regexpLine(text, word, n string) bool {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == word && f[1] == n {
			return true
		}
	}
	return false
}
