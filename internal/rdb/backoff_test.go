package rdb

import (
	"testing"
	"time"
)

func TestBackoffStartsAfterThresholdAndEndsWithASuccess(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	schedule := []time.Duration{time.Second, 2 * time.Second}
	now := time.Now().UnixMilli()
	for i, key := range []string{"a", "b", "a"} {
		v, err := c.Failed(ctx, "s", key, now, 3, schedule)
		if err != nil || v.Level != 0 {
			t.Fatalf("failure %d (%s): %+v %v; want no back-off yet (2 distinct invites)", i, key, v, err)
		}
	}
	v, err := c.Failed(ctx, "s", "c", now, 3, schedule)
	if err != nil || v.Level != 1 || v.Wait != time.Second || v.AtMax {
		t.Fatalf("third distinct invite: %+v %v; want level 1, 1s", v, err)
	}
	// A request reserved before the wait ends does not escalate.
	if v, _ := c.Failed(ctx, "s", "d", now, 3, schedule); v.Level != 1 {
		t.Fatalf("an old reservation escalated: %+v", v)
	}
	later := time.Now().Add(time.Hour).UnixMilli()
	if v, _ := c.Failed(ctx, "s", "e", later, 3, schedule); v.Level != 2 || v.Wait != 2*time.Second || !v.AtMax {
		t.Fatalf("a probe failed: %+v; want level 2, the schedule's last", v)
	}
	if err := c.Recovered(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	g := conn.HGetAll(ctx, c.k.gate("s")).Val()
	if g["backoff_level"] != "0" || g["trouble"] != "0" || g["recovering"] != "1" {
		t.Fatalf("gate after a success %v", g)
	}
	if conn.Exists(ctx, c.k.fails("s")).Val() != 0 {
		t.Fatal("the failures were not forgotten")
	}
}
