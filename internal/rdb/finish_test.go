package rdb

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

func TestFinishRecordsOnceAndStreams(t *testing.T) {
	c, conn := newTestClient(t, func(o *Options) { o.FinishedTTL = time.Hour; o.StreamMaxLen = 1000 })
	ctx := t.Context()
	a, b := testInvite(t, "a@example.org"), testInvite(t, "b@example.org")
	register(t, c, record.RegisterOptions{}, &a, &b)
	pa, _ := c.Begin(ctx, a, BeginOptions{})
	pb, _ := c.Begin(ctx, b, BeginOptions{})
	ok := record.Final{Status: matrix.Success, HTTPStatus: 200, PossibleDuplicate: true, Ambiguous: 1, FinishedAt: time.Now()}
	if first, err := c.Finish(ctx, a, pa, record.AttemptUpdate{Attempts: 1, RequestsDelta: 1}, ok); err != nil || !first {
		t.Fatalf("finish a: %v %v", first, err)
	}
	if first, err := c.Finish(ctx, a, pa, record.AttemptUpdate{Attempts: 1}, ok); err != nil || first {
		t.Fatalf("finish a again: %v %v; want already final", first, err)
	}
	bad := record.Final{Status: matrix.NotFound, HTTPStatus: 404, ErrCode: "M_NOT_FOUND", Error: "no such room", FinishedAt: time.Now()}
	if _, err := c.Finish(ctx, b, pb, record.AttemptUpdate{Attempts: 1}, bad); err != nil {
		t.Fatal(err)
	}
	n := checkIdentity(t, c, "spring")
	if n.States[record.StateDone] != 2 || n.Statuses["Success"] != 1 || n.Statuses["NotFound"] != 1 || n.PossibleDuplicates != 1 || n.Requests != 1 {
		t.Fatalf("counts %+v", n)
	}
	entries, err := c.ReadResults(ctx, "", 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("stream: %d entries (%v)", len(entries), err)
	}
	e := entries[1].Fields
	if e["task_id"] != b.TaskID() || e["campaign"] != "spring" || e["status"] != "NotFound" || e["errcode"] != "M_NOT_FOUND" || e["address"] != "b@example.org" {
		t.Fatalf("stream entry %v", e)
	}
	if ttl := conn.PTTL(ctx, c.k.invite(a.Key())).Val(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("record TTL %s, want about an hour", ttl)
	}
	if pace := conn.HGet(ctx, c.k.counts("spring"), "pace_at_ms").Val(); pace == "" {
		t.Fatal("no pace kept for the ETA")
	}
	r, _, _ := c.Get(ctx, b.Key())
	if r.StatusCode != matrix.NotFound || r.HTTPStatus != 404 || r.Error != "no such room" || r.Attempts != 1 || r.FinishedAt.IsZero() {
		t.Fatalf("result %+v", r)
	}
}

// TestFinishedRecordKeepsWhatReadersRead: a finished record drops what only
// a delivery in flight needs (inflight, owner, begins, and the task ID the
// key and generation give, zero counts and generation, a Success's status
// and status_code) and reads back the same; a re-delivery's task
// ID, which the key cannot give, stays. A final invite leaves its worker's
// held set (no takeover needs it).
func TestFinishedRecordKeepsWhatReadersRead(t *testing.T) {
	c, conn := newTestClient(t, func(o *Options) { o.WorkerID = "worker-a" })
	ctx := t.Context()
	a, b := testInvite(t, "a@example.org"), testInvite(t, "b@example.org")
	register(t, c, record.RegisterOptions{}, &a, &b)
	pa, _ := c.Begin(ctx, a, BeginOptions{Send: true})
	redelivery := b.TaskID() + ":r1"
	pb, _ := c.Begin(ctx, b, BeginOptions{Send: true, TaskID: redelivery})
	for _, rec := range []string{c.k.invite(a.Key()), c.k.invite(b.Key())} {
		if h := conn.HGetAll(ctx, rec).Val(); h["owner"] != "worker-a" || h["begins"] != "1" || h["task_id"] == "" {
			t.Fatalf("record in flight %v: want owner, begins and task_id", h)
		}
	}
	if held := conn.SMembers(ctx, c.k.held("worker-a")).Val(); len(held) != 2 {
		t.Fatalf("held set while in flight: %v, want both invites", held)
	}
	ok := record.Final{Status: matrix.Success, HTTPStatus: 200, FinishedAt: time.Now()}
	for _, x := range []struct {
		inv tasks.Invite
		p   record.Progress
	}{{a, pa}, {b, pb}} {
		if _, err := c.Finish(ctx, x.inv, x.p, record.AttemptUpdate{Attempts: 1}, ok); err != nil {
			t.Fatal(err)
		}
	}
	if held := conn.SMembers(ctx, c.k.held("worker-a")).Val(); len(held) != 0 {
		t.Errorf("held set after both finished: %v, want empty", held)
	}
	ha := conn.HGetAll(ctx, c.k.invite(a.Key())).Val()
	// A Success of generation 0 keeps no status, status_code or generation
	// either; its times are to the millisecond.
	for _, f := range []string{"inflight", "owner", "begins", "task_id", "status", "status_code", "generation", "medium"} {
		if _, has := ha[f]; has {
			t.Errorf("finished record keeps %q: %v", f, ha)
		}
	}
	for _, f := range []string{"finished_at", "enqueued_at"} {
		if at, err := time.Parse(stampLayout, ha[f]); err != nil || len(ha[f]) != len("2006-01-02T15:04:05.000Z") || at.IsZero() {
			t.Errorf("%s %q: want RFC 3339 to the millisecond (%v)", f, ha[f], err)
		}
	}
	entries, _ := c.ReadResults(ctx, "", 10)
	if len(entries) != 2 {
		t.Fatalf("stream: %d entries, want 2", len(entries))
	}
	if e := entries[0].Fields; e["status"] != "Success" || e["status_code"] != "0" || e["generation"] != "0" || e["rate_limited"] != "0" {
		t.Errorf("stream entry of a Success %v: want every field, zeros as 0", e)
	}
	if hb := conn.HGet(ctx, c.k.invite(b.Key()), "task_id").Val(); hb != redelivery {
		t.Errorf("a re-delivery's task_id %q after finish, want %q", hb, redelivery)
	}
	ra, _, _ := c.Get(ctx, a.Key())
	rb, _, _ := c.Get(ctx, b.Key())
	if ra.TaskID != a.TaskID() || rb.TaskID != redelivery || ra.State != record.StateDone || ra.Status != "Success" || ra.StatusCode != matrix.Success || ra.Medium != "email" || ra.Address != "a@example.org" || ra.Attempts != 1 {
		t.Errorf("results read %+v and %+v", ra, rb)
	}
	if d, _, _ := c.Detail(ctx, a.Key()); d.InFlight {
		t.Errorf("detail of a finished invite says in flight: %+v", d)
	}
}

// A finished phone-number invite leaves its medium out too (its address
// has no '@') and reads back as msisdn; so does its stream entry.
func TestFinishedPhoneInviteReadsItsMediumFromItsAddress(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: testRoom, Medium: tasks.MediumMSISDN,
		Address: "+44 20 7946 0958", EnqueuedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, record.RegisterOptions{}, &inv)
	p, _ := c.Begin(ctx, inv, BeginOptions{})
	if _, err := c.Finish(ctx, inv, p, record.AttemptUpdate{Attempts: 1}, record.Final{Status: matrix.Success, HTTPStatus: 200, FinishedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if m, _ := conn.HGet(ctx, c.k.invite(inv.Key()), "medium").Result(); m != "" {
		t.Errorf("finished record keeps medium %q", m)
	}
	if r, _, _ := c.Get(ctx, inv.Key()); r.Medium != "msisdn" || r.Address != "442079460958" {
		t.Errorf("result %+v: want msisdn 442079460958", r)
	}
	if e, _ := c.ReadResults(ctx, "", 1); len(e) != 1 || e[0].Fields["medium"] != "msisdn" {
		t.Errorf("stream %v: want medium msisdn", e)
	}
}

// TestFinishedRecordLeavesOutWhatItsCampaignShares: a finished record
// leaves out the room and sender of its campaign's first finished record
// (kept in the meta, never changed after) and keeps those that differ;
// every reader fills them in, also once a later invite in another room
// turns the meta's room_id to "*"; the stream entry keeps every field; a
// re-invite writes the whole identity again.
func TestFinishedRecordLeavesOutWhatItsCampaignShares(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	a := testInvite(t, "a@example.org")
	b, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: "!other:test", Medium: tasks.MediumEmail,
		Address: "b@example.org", EnqueuedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, record.RegisterOptions{}, &a, &b)
	ok := record.Final{Status: matrix.Success, HTTPStatus: 200, FinishedAt: time.Now()}
	for _, inv := range []tasks.Invite{a, b} { // one batch each: a's finish comes first
		p, _ := c.Begin(ctx, inv, BeginOptions{})
		if _, err := c.Finish(ctx, inv, p, record.AttemptUpdate{Attempts: 1}, ok); err != nil {
			t.Fatal(err)
		}
	}
	ha, hb := conn.HGetAll(ctx, c.k.invite(a.Key())).Val(), conn.HGetAll(ctx, c.k.invite(b.Key())).Val()
	if _, has := ha["room_id"]; has {
		t.Errorf("a's finished record keeps the campaign's room: %v", ha)
	}
	if _, has := ha["sender"]; has {
		t.Errorf("a's finished record keeps the campaign's sender: %v", ha)
	}
	if _, has := hb["sender"]; has || hb["room_id"] != "!other:test" {
		t.Errorf("b's finished record %v: want its own room kept, the shared sender left out", hb)
	}
	// A third invite in a third room: the meta's room_id turns "*".
	x, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: "!third:test", Medium: tasks.MediumEmail,
		Address: "x@example.org", EnqueuedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, record.RegisterOptions{}, &x)
	if room := conn.HGet(ctx, c.k.meta("spring"), "room_id").Val(); room != "*" {
		t.Fatalf("meta room_id %q, want * once the campaign's invites disagree", room)
	}
	want := map[string][2]string{a.Key(): {testRoom, a.Sender}, b.Key(): {"!other:test", b.Sender}, x.Key(): {"!third:test", x.Sender}}
	check := func(how string, r record.Result) {
		t.Helper()
		if w := want[r.Key]; r.RoomID != w[0] || r.Sender != w[1] || r.Sender == "" {
			t.Errorf("%s read %s in %q from %q, want %q from %q", how, r.Address, r.RoomID, r.Sender, w[0], w[1])
		}
	}
	for _, inv := range []tasks.Invite{a, b, x} {
		r, _, err := c.Get(ctx, inv.Key())
		if err != nil {
			t.Fatal(err)
		}
		check("Get", r)
		d, _, err := c.Detail(ctx, inv.Key())
		if err != nil {
			t.Fatal(err)
		}
		check("Detail", d.Result)
	}
	n := 0
	if err := c.Results(ctx, "spring", func(r record.Result) error { n++; check("Results", r); return nil }); err != nil || n != 3 {
		t.Fatalf("Results: %d invites (%v), want 3", n, err)
	}
	found, err := c.FindInvites(ctx, a.TaskID())
	if err != nil || len(found) != 1 {
		t.Fatalf("FindInvites(%s): %d (%v)", a.TaskID(), len(found), err)
	}
	check("FindInvites", found[0].Result)
	if s, err := c.CampaignSender(ctx, "spring"); err != nil || s != a.Sender {
		t.Errorf("CampaignSender %q (%v), want %q", s, err, a.Sender)
	}
	entries, _ := c.ReadResults(ctx, "", 10)
	if len(entries) != 2 || entries[0].Fields["room_id"] != testRoom || entries[0].Fields["sender"] != a.Sender {
		t.Errorf("stream %v: want a's entry with its room and sender", entries)
	}
	// Re-invited, a's record holds its whole identity again.
	register(t, c, record.RegisterOptions{Again: true}, &a)
	if h := conn.HGetAll(ctx, c.k.invite(a.Key())).Val(); h["room_id"] != testRoom || h["sender"] != a.Sender {
		t.Errorf("re-invited record %v: want its room and sender", h)
	}
}
