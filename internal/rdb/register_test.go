package rdb

import (
	"strconv"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

func TestRegisterNewThenPending(t *testing.T) {
	c, conn := newTestClient(t)
	a, b := testInvite(t, "a@example.org"), testInvite(t, "b@example.org")
	other := testInviteIn(t, "autumn", "c@example.org")
	other.IDServer = "id.example.org"
	if v := register(t, c, record.RegisterOptions{}, &a, &b, &other); v[0] != record.Registered || v[1] != record.Registered || v[2] != record.Registered {
		t.Fatalf("verdicts %v, want registered ×3", v)
	}
	regs := []record.Registration{{Invite: a}, {Invite: testInviteIn(t, "autumn", "a@example.org")}}
	if err := c.Register(t.Context(), regs, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range regs {
		if r.Verdict != record.AlreadyPending || r.HeldBy != "spring" {
			t.Fatalf("registration again: %v held by %q, want already pending, spring", r.Verdict, r.HeldBy)
		}
	}
	if n := checkIdentity(t, c, "spring"); n.Enqueued != 2 || n.States[record.StateQueued] != 2 {
		t.Fatalf("spring counts %+v", n)
	}
	checkIdentity(t, c, "autumn")
	r, ok, err := c.Get(t.Context(), other.Key())
	if err != nil || !ok || r.IDServer != "id.example.org" || r.TaskID != other.TaskID() || r.State != record.StateQueued {
		t.Fatalf("record %+v (%v %v)", r, ok, err)
	}
	meta := conn.HGetAll(t.Context(), c.k.meta("spring")).Val()
	if meta["room_id"] != testRoom || meta["medium"] != "email" || meta["sender"] != tasks.DefaultSender || meta["created_at_ms"] == "" {
		t.Fatalf("meta %v", meta)
	}
	names, _ := c.Campaigns(t.Context())
	if len(names) != 2 {
		t.Fatalf("campaigns %v", names)
	}
}

func TestRegisterScheduledAndMetaThatDisagrees(t *testing.T) {
	c, conn := newTestClient(t)
	a := testInvite(t, "a@example.org")
	b := testInvite(t, "b@example.org")
	b.RoomID = "!other:test"
	regs := []record.Registration{{Invite: a, Scheduled: true, ProcessAt: time.Now().Add(time.Hour)}, {Invite: b}}
	if err := c.Register(t.Context(), regs, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	n := checkIdentity(t, c, "spring")
	if n.States[record.StateScheduled] != 1 || n.States[record.StateQueued] != 1 {
		t.Fatalf("counts %+v", n)
	}
	if room := conn.HGet(t.Context(), c.k.meta("spring"), "room_id").Val(); room != "*" {
		t.Fatalf("meta room_id %q for two rooms, want *", room)
	}
	if at := conn.HGet(t.Context(), c.k.invite(a.Key()), "process_at").Val(); at == "" {
		t.Fatal("a scheduled registration keeps no process_at")
	}
}

func TestRegisterAgainAndAfterCancelAsNewGenerations(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	done, cancelled := testInvite(t, "done@example.org"), testInvite(t, "cancelled@example.org")
	register(t, c, record.RegisterOptions{}, &done, &cancelled)
	finishNow(t, c, done, record.Final{Status: 0, HTTPStatus: 200})
	conn.HSet(ctx, c.k.invite(cancelled.Key()), "ambiguous", 1)
	if _, err := c.Cancel(ctx, "spring", "q"); err != nil {
		t.Fatal(err)
	}
	again := done
	if v := register(t, c, record.RegisterOptions{}, &again); v[0] != record.AlreadyDone {
		t.Fatalf("a finished invite without again: %v", v[0])
	}
	if v := register(t, c, record.RegisterOptions{Again: true}, &again); v[0] != record.Registered || again.Generation != 1 {
		t.Fatalf("again: %v generation %d, want registered 1", v[0], again.Generation)
	}
	back := cancelled
	if v := register(t, c, record.RegisterOptions{}, &back); v[0] != record.Registered || back.Generation != 1 {
		t.Fatalf("after cancel: %v generation %d, want registered 1", v[0], back.Generation)
	}
	if amb := conn.HGet(ctx, c.k.invite(back.Key()), "ambiguous").Val(); amb != "1" {
		t.Fatalf("ambiguous %q after re-registering a cancelled invite, want carried over (1)", amb)
	}
	n := checkIdentity(t, c, "spring")
	if n.Enqueued != 2 || n.States[record.StateQueued] != 2 || len(n.Statuses) != 0 {
		t.Fatalf("counts %+v: want both queued again, no status left", n)
	}
}

// A finished invite re-invited under another campaign leaves the first
// campaign's counters and index (the script is called again with that
// campaign's keys).
func TestRegisterReplacesARecordOfAnotherCampaign(t *testing.T) {
	c, _ := newTestClient(t)
	first := testInviteIn(t, "first", "x@example.org")
	register(t, c, record.RegisterOptions{}, &first)
	finishNow(t, c, first, record.Final{Status: 0, HTTPStatus: 200})
	second := testInviteIn(t, "second", "x@example.org")
	if v := register(t, c, record.RegisterOptions{Again: true}, &second); v[0] != record.Registered || second.Generation != 1 {
		t.Fatalf("verdict %v generation %d", v[0], second.Generation)
	}
	if n := checkIdentity(t, c, "first"); n.Enqueued != 0 || n.States[record.StateDone] != 0 || len(n.Statuses) != 0 {
		t.Fatalf("first campaign %+v: want empty", n)
	}
	if n := checkIdentity(t, c, "second"); n.Enqueued != 1 || n.States[record.StateQueued] != 1 {
		t.Fatalf("second campaign %+v", n)
	}
}

func TestRegisterDuplicateRowsOfOneImportRun(t *testing.T) {
	c, _ := newTestClient(t)
	a := testInvite(t, "a@example.org")
	a2 := a
	v := register(t, c, record.RegisterOptions{ImportRun: "run-1"}, &a, &a2)
	if v[0] != record.Registered || v[1] != record.DuplicateInRun {
		t.Fatalf("verdicts %v, want registered then duplicate", v)
	}
	a3 := a
	if v := register(t, c, record.RegisterOptions{ImportRun: "run-1"}, &a3); v[0] != record.DuplicateInRun {
		t.Fatalf("same run, later batch: %v", v[0])
	}
	if v := register(t, c, record.RegisterOptions{ImportRun: "run-2"}, &a3); v[0] != record.AlreadyPending {
		t.Fatalf("another run: %v", v[0])
	}
	checkIdentity(t, c, "spring")
}

// finishNow begins and finishes an invite as a worker would.
func finishNow(t testing.TB, c *Client, inv tasks.Invite, f record.Final) {
	t.Helper()
	p, err := c.Begin(t.Context(), inv, BeginOptions{})
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	f.FinishedAt = time.Now()
	if first, err := c.Finish(t.Context(), inv, p, record.AttemptUpdate{Attempts: 1}, f); err != nil || !first {
		t.Fatalf("Finish: %v %v", first, err)
	}
}

// A campaign whose every address belongs to another campaign exists,
// empty, and its meta says where its addresses are.
func TestRegisterCampaignHeldElsewhereExistsEmpty(t *testing.T) {
	c, _ := newTestClient(t)
	a, b := testInviteIn(t, "first", "a@example.org"), testInviteIn(t, "first", "b@example.org")
	register(t, c, record.RegisterOptions{}, &a, &b)
	a2, b2 := testInviteIn(t, "second", "a@example.org"), testInviteIn(t, "second", "b@example.org")
	if v := register(t, c, record.RegisterOptions{}, &a2, &b2); v[0] != record.AlreadyPending || v[1] != record.AlreadyPending {
		t.Fatalf("verdicts %v", v)
	}
	info, known, err := c.Campaign(t.Context(), "second")
	if err != nil || !known || info.State != record.CampaignEmpty || info.RoomID != testRoom {
		t.Fatalf("second: %+v known %v (%v)", info, known, err)
	}
	o, err := c.Outlook(t.Context(), info.Counts)
	if err != nil || o.HeldElsewhere["first"] != 2 {
		t.Fatalf("outlook %+v (%v); want 2 held by first", o, err)
	}
	checkIdentity(t, c, "second")
}

// A campaign's counters keep the window its scheduled invites become due
// in: widened by later batches, started afresh once none is scheduled.
func TestRegisterKeepsTheScheduledWindow(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	base := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	window := func() (int64, int64) {
		t.Helper()
		h := conn.HMGet(ctx, c.k.counts("spring"), "sched_from_ms", "sched_until_ms").Val()
		from, _ := h[0].(string)
		until, _ := h[1].(string)
		return atoi64(from), atoi64(until)
	}
	var regs []record.Registration
	for i, addr := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		regs = append(regs, record.Registration{Invite: testInvite(t, addr), Scheduled: true, ProcessAt: base.Add(time.Duration(2-i) * time.Hour)})
	}
	regs = append(regs, record.Registration{Invite: testInvite(t, "now@example.org")},
		record.Registration{Invite: testInviteIn(t, "autumn", "x@example.org")})
	if err := c.Register(ctx, regs, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	if from, until := window(); from != base.UnixMilli() || until != base.Add(2*time.Hour).UnixMilli() {
		t.Fatalf("window %d..%d, want %d..%d", from, until, base.UnixMilli(), base.Add(2*time.Hour).UnixMilli())
	}
	if h := conn.HGetAll(ctx, c.k.counts("autumn")).Val(); h["sched_from_ms"] != "" {
		t.Fatalf("autumn has no scheduled invite, yet a window: %v", h)
	}
	later := []record.Registration{{Invite: testInvite(t, "d@example.org"), Scheduled: true, ProcessAt: base.Add(5 * time.Hour)}}
	if err := c.Register(ctx, later, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	if from, until := window(); from != base.UnixMilli() || until != base.Add(5*time.Hour).UnixMilli() {
		t.Fatalf("widened window %d..%d", from, until)
	}
	// Once every scheduled invite became due, the next window starts afresh.
	conn.HSet(ctx, c.k.counts("spring"), "state:scheduled", 0)
	again := []record.Registration{{Invite: testInvite(t, "e@example.org"), Scheduled: true, ProcessAt: base.Add(9 * time.Hour)}}
	if err := c.Register(ctx, again, record.RegisterOptions{}); err != nil {
		t.Fatal(err)
	}
	if from, until := window(); from != base.Add(9*time.Hour).UnixMilli() || until != from {
		t.Fatalf("fresh window %d..%d, want %d", from, until, base.Add(9*time.Hour).UnixMilli())
	}
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
