package rdb

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// newGateTest is a new gate of sender "s" whose first slot invite "k" of
// campaign "c" has taken.
func newGateTest(t *testing.T) (*Client, *redis.Client, tasks.Invite, record.Progress) {
	t.Helper()
	g, conn := newTestClient(t)
	inv := tasks.Invite{Sender: "s", Campaign: "c", RoomID: "!r:test"}
	p := record.Progress{Key: "k", Campaign: "c"}
	conn.HSet(t.Context(), g.k.invite("k"), "campaign", "c")
	first, err := g.Acquire(t.Context(), inv, p, time.Minute)
	if err != nil || !first.Reserved || first.Wait != 0 {
		t.Fatalf("first slot %+v (%v); want reserved now", first, err)
	}
	return g, conn, inv, p
}

func TestGateSlowStartThenBlockAfter429(t *testing.T) {
	g, conn, inv, p := newGateTest(t)
	ctx := t.Context()
	second, _ := g.Acquire(ctx, inv, p, time.Minute)
	if !second.Reserved || second.Wait <= 0 || second.Wait > StartInterval {
		t.Fatalf("second slot %+v; want reserved one start interval (%s) later", second, StartInterval)
	}

	if d, err := g.Limited(ctx, inv, p, 300*time.Millisecond, second.At, second.At); err != nil || d.Scope != record.ScopeSender {
		t.Fatalf("a first 429 with no evidence: %+v %v, want the sender's", d, err)
	}
	// The slot reserved before the 429 is held back at the last moment.
	conn.HSet(ctx, g.k.invite("k"), "requests", 0)
	if wait, _, _, err := g.Send(ctx, inv, p); err != nil || wait < 200*time.Millisecond {
		t.Fatalf("send after a 429: wait %s (%v); want about 300ms", wait, err)
	}
	if n, _ := conn.HGet(ctx, g.k.invite("k"), "requests").Int(); n != 0 {
		t.Fatalf("a held-back request was counted as sent (%d)", n)
	}
	// A guess sets no pace.
	if iv, _ := conn.HGet(ctx, g.k.gate("s"), "interval").Int(); iv >= 300 {
		t.Fatalf("interval %d ms after one unconfirmed 429", iv)
	}
	// Two more invites refused inside the window with the same next free
	// time (sent 50 and 100 ms later, advised 250 and 200 ms): the bucket's
	// word. (One could be chance.)
	p2 := record.Progress{Key: "k2", Campaign: "c"}
	if d, err := g.Limited(ctx, inv, p2, 250*time.Millisecond, second.At+50, second.At+50); err != nil || d.Scope != record.ScopeSender {
		t.Fatalf("an agreeing 429: %+v %v, want the sender's", d, err)
	}
	if sure := conn.HGet(ctx, g.k.gate("s"), "lim_sure").Val(); sure == "1" {
		t.Fatal("one agreeing 429 confirmed the sender's limit")
	}
	p3 := record.Progress{Key: "k3", Campaign: "c"}
	if d, err := g.Limited(ctx, inv, p3, 200*time.Millisecond, second.At+100, second.At+100); err != nil || d.Scope != record.ScopeSender {
		t.Fatalf("a second agreeing 429: %+v %v, want the sender's", d, err)
	}
	if sure := conn.HGet(ctx, g.k.gate("s"), "lim_sure").Val(); sure != "1" {
		t.Fatal("three 429s naming one next free time did not confirm the sender's limit")
	}
	// The next slot is after the advised time; the one after that would be
	// two intervals ahead: nothing is reserved that far, come back later.
	next, _ := g.Acquire(ctx, inv, p, time.Minute)
	if !next.Reserved || next.Wait < 200*time.Millisecond {
		t.Fatalf("slot after a 429: %+v; want reserved after ~300ms", next)
	}
	if later, _ := g.Acquire(ctx, inv, p, time.Minute); later.Reserved || !later.Later {
		t.Fatalf("second slot after a 429: %+v; want 'ask again later'", later)
	}
	// The pace is the advice now (the first confirmed limit ends the slow start).
	if iv, _ := conn.HGet(ctx, g.k.gate("s"), "interval").Int(); iv != 300 {
		t.Fatalf("interval %d ms after a 300 ms advice", iv)
	}
	// Limited again although reserved at that pace: the pace slows by a tenth.
	if _, err := g.Limited(ctx, inv, p, 10*time.Millisecond, time.Now().Add(time.Hour).UnixMilli(), time.Now().Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if iv, _ := conn.HGet(ctx, g.k.gate("s"), "interval").Int(); iv != 330 {
		t.Fatalf("interval %d ms after a paced 429; want 330", iv)
	}
}
