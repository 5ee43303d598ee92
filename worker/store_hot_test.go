package worker

import (
	"context"
	"errors"
	"testing"

	"github.com/mxinvite/mxinvite/matrix"
)

// One batch of begins and finishes: each invite gets its own answer, an
// invite whose record is broken fails alone, and the counters and the
// stream count exactly the invites recorded.
func TestHotBatchesAnswerEachInviteAlone(t *testing.T) {
	e := newEnv(t, "http://127.0.0.1:1")
	ctx := context.Background()
	a, b, broken := e.invite("a@example.org"), e.invite("b@example.org"), e.invite("broken@example.org")
	e.enqueue(a, EnqueueOptions{})
	e.enqueue(b, EnqueueOptions{})
	e.enqueue(broken, EnqueueOptions{})
	s := NewStore(e.rdb, e.cfg.KeyPrefix, 0)
	// A record that is not a hash: every command on it fails.
	if err := e.rdb.Del(ctx, s.k.invite(broken.Key())).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Set(ctx, s.k.invite(broken.Key()), "not a hash", 0).Err(); err != nil {
		t.Fatal(err)
	}

	begun, err := s.writeBegins(ctx, []beginReq{{inv: a, opts: beginOptions{send: true}}, {inv: broken}, {inv: b, opts: beginOptions{send: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if begun[0].err != nil || begun[2].err != nil || begun[1].err == nil {
		t.Fatalf("begin errors %v, %v, %v; want only the broken record's", begun[0].err, begun[1].err, begun[2].err)
	}
	success := attemptUpdate{attempts: 1, fields: finalFields(final{status: matrix.Status{Code: matrix.Success}, httpStatus: 200}, "", progress{})}
	reqs := []finishReq{{key: a.Key(), u: success}, {key: broken.Key(), u: success}, {key: b.Key(), u: success}, {key: a.Key(), u: success}}
	done, err := s.writeFinishes(ctx, reqs)
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
	if c.States[StateDone] != 2 || c.Statuses["Success"] != 2 || c.States[StateActive] != 0 || c.States[StateQueued] != 1 {
		t.Fatalf("counts %+v", c)
	}
	if n := e.rdb.XLen(ctx, e.cfg.KeyPrefix+":results").Val(); n != 2 {
		t.Fatalf("%d stream entries, want 2", n)
	}
	if _, err := s.begin(ctx, a, beginOptions{}); !errors.Is(err, errDone) {
		t.Fatalf("begin of a finished invite: %v, want errDone", err)
	}
}
