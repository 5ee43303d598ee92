package rdb

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Producers send references only while every live worker reads them: a
// worker of an earlier release beats into {prefix}:workers alone, and
// while it lives ReadersOfRefs names it; once its beat lapses (or with no
// worker at all) references go.
func TestReadersOfRefsWhileAnEarlierWorkerLives(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	if ok, other, err := c.ReadersOfRefs(ctx); err != nil || !ok {
		t.Fatalf("no worker: %v %q (%v), want references", ok, other, err)
	}
	if err := c.Heartbeat(ctx, "new-worker", time.Hour); err != nil {
		t.Fatal(err)
	}
	if ok, other, err := c.ReadersOfRefs(ctx); err != nil || !ok {
		t.Fatalf("a worker of this release: %v %q (%v), want references", ok, other, err)
	}
	// An earlier release's beat: the workers set only.
	conn.ZAdd(ctx, c.k.workers(), redis.Z{Score: float64(time.Now().Add(time.Hour).UnixMilli()), Member: "old-worker"})
	if ok, other, err := c.ReadersOfRefs(ctx); err != nil || ok || other != "old-worker" {
		t.Fatalf("an earlier worker alive: %v %q (%v), want whole invites because of old-worker", ok, other, err)
	}
	conn.ZAdd(ctx, c.k.workers(), redis.Z{Score: float64(time.Now().Add(-time.Second).UnixMilli()), Member: "old-worker"})
	if ok, other, err := c.ReadersOfRefs(ctx); err != nil || !ok {
		t.Fatalf("the earlier worker's beat lapsed: %v %q (%v), want references", ok, other, err)
	}
	if err := c.Leave(ctx, "new-worker"); err != nil {
		t.Fatal(err)
	}
	if n := conn.Exists(ctx, c.k.workersReadingRefs()).Val(); n != 0 {
		t.Fatal("a worker that left is still listed as reading references")
	}
}
