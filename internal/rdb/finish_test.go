package rdb

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
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
