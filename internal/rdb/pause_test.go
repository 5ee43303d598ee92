package rdb

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/record"
)

func TestPausesSetOnceListAndClearByKind(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	if created, err := c.SetPause(ctx, record.PauseSender, "s", record.PauseDeadToken, "dead"); err != nil || !created {
		t.Fatalf("first pause: %v %v", created, err)
	}
	if created, _ := c.SetPause(ctx, record.PauseSender, "s", record.PauseManual, "second"); created {
		t.Fatal("a second pause replaced the first")
	}
	if _, err := c.SetPause(ctx, record.PauseCampaign, "spring", record.PauseManual, "by hand"); err != nil {
		t.Fatal(err)
	}
	list, err := c.Pauses(ctx)
	if err != nil || len(list) != 2 || list[0].Since.After(list[1].Since) {
		t.Fatalf("pauses %+v %v; want two, oldest first", list, err)
	}
	if p, _ := c.GetPause(ctx, record.PauseSender, "s"); p == nil || p.Reason != "dead" {
		t.Fatalf("the sender's pause: %+v", p)
	}
	if p, _ := c.PauseOf(ctx, "autumn", "s"); p == nil || p.Kind != record.PauseDeadToken {
		t.Fatalf("pause of another campaign of sender s: %+v", p)
	}
	if err := c.AllPaused(ctx, []string{"s"}); err == nil {
		t.Fatal("AllPaused: nil with the only sender paused")
	}
	if err := c.AllPaused(ctx, []string{"s", "t"}); err != nil {
		t.Fatalf("AllPaused with t serving: %v", err)
	}
	if ok, _ := c.ClearPause(ctx, record.PauseSender, "s", record.PauseIdentityTerms); ok {
		t.Fatal("a pause of another kind was cleared")
	}
	if ok, err := c.ClearPause(ctx, record.PauseSender, "s", record.PauseDeadToken); err != nil || !ok {
		t.Fatalf("clear: %v %v", ok, err)
	}
	if p, _ := c.GetPause(ctx, record.PauseSender, "s"); p != nil {
		t.Fatalf("still paused: %+v", p)
	}
	if list, _ := c.Pauses(ctx); len(list) != 1 {
		t.Fatalf("pauses after clearing: %+v", list)
	}
}

func TestBreakerTripsOnlyWhenTheFirstNAllFailAlike(t *testing.T) {
	c, _ := newTestClient(t)
	ctx := t.Context()
	fail := func(campaign, status string, n int) {
		c.rdb.HIncrBy(ctx, c.k.counts(campaign), "status:"+status, int64(n))
	}
	fail("alike", "NotFound", 2)
	if v, err := c.Breaker(ctx, "alike", 3, "NotFound", "why"); err != nil || v != BreakerNotYet {
		t.Fatalf("2 of 3: %v %v", v, err)
	}
	fail("alike", "NotFound", 1)
	if v, _ := c.Breaker(ctx, "alike", 3, "NotFound", "why"); v != BreakerTripped {
		t.Fatalf("3 alike: %v, want tripped", v)
	}
	if p, _ := c.GetPause(ctx, record.PauseCampaign, "alike"); p == nil || p.Kind != record.PauseBreaker || p.Reason != "why" {
		t.Fatalf("pause %+v", p)
	}
	if v, _ := c.Breaker(ctx, "alike", 3, "NotFound", "why"); v != BreakerPassed {
		t.Fatalf("evaluated again: %v, want passed (once per campaign)", v)
	}
	fail("mixed", "NotFound", 2)
	fail("mixed", "Success", 1)
	if v, _ := c.Breaker(ctx, "mixed", 3, "NotFound", "why"); v != BreakerPassed {
		t.Fatalf("mixed: %v, want passed", v)
	}
}
