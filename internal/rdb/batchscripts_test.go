package rdb

import (
	"errors"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// One batch of begins and finishes: each invite gets its own answer, an
// invite whose record is broken fails alone, and the counters and the
// stream count exactly the invites recorded.
func TestHotBatchesAnswerEachInviteAlone(t *testing.T) {
	s, conn := newTestClient(t)
	ctx := t.Context()
	a, b, broken := testInvite(t, "a@example.org"), testInvite(t, "b@example.org"), testInvite(t, "broken@example.org")
	register(t, s, record.RegisterOptions{}, &a, &b, &broken)
	// A record that is not a hash: every command on it fails.
	if err := conn.Del(ctx, s.k.invite(broken.Key())).Err(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Set(ctx, s.k.invite(broken.Key()), "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}

	begun, err := s.writeBegins(ctx, []beginReq{
		{ref: a.Ref(), whole: &a, opts: BeginOptions{Send: true}, campaign: a.Campaign},
		{ref: broken.Ref(), whole: &broken, campaign: broken.Campaign},
		{ref: b.Ref(), opts: BeginOptions{Send: true}, campaign: b.Campaign}}) // b: a reference
	if err != nil {
		t.Fatal(err)
	}
	if begun[0].err != nil || begun[2].err != nil || begun[1].err == nil {
		t.Fatalf("begin errors %v, %v, %v; want only the broken record's", begun[0].err, begun[1].err, begun[2].err)
	}
	want := b
	want.EnqueuedAt = want.EnqueuedAt.Truncate(time.Millisecond) // the record's stamp
	if begun[2].inv != want {
		t.Errorf("the reference began as %+v, want its record's invite %+v", begun[2].inv, want)
	}
	fin := func(inv tasks.Invite) finishReq {
		return finishReq{inv: inv, p: record.Progress{Key: inv.Key(), Campaign: inv.Campaign},
			u: record.AttemptUpdate{Attempts: 1}, f: success()}
	}
	done, err := s.writeFinishes(ctx, []finishReq{fin(a), fin(broken), fin(b), fin(a)})
	if err != nil {
		t.Fatal(err)
	}
	if !done[0].first || !done[2].first || done[1].err == nil || done[3].first || done[3].err != nil {
		t.Fatalf("finishes %+v: want a and b recorded, broken failed, a's second finish found already final", done)
	}
	c, err := s.Counts(ctx, "spring")
	if err != nil {
		t.Fatal(err)
	}
	// broken still counts as queued: its record broke, not the counters.
	if c.States[record.StateDone] != 2 || c.Statuses["Success"] != 2 || c.States[record.StateActive] != 0 || c.States[record.StateQueued] != 1 {
		t.Fatalf("counts %+v", c)
	}
	if n := conn.XLen(ctx, s.k.results()).Val(); n != 2 {
		t.Fatalf("%d stream entries, want 2", n)
	}
	if _, err := s.Begin(ctx, a, BeginOptions{}); !errors.Is(err, ErrDone) {
		t.Fatalf("begin of a finished invite: %v, want ErrDone", err)
	}
}
