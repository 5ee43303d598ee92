package rdb

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/tasks"
)

// Outlook plans a campaign among its sender's others: read from Redis,
// the lanes, the order, the counts, the scheduled window, the gate's pace
// and the pauses reach the planner.
func TestOutlookPlansAmongTheSendersCampaigns(t *testing.T) {
	c, conn := newTestClient(t)
	ctx := t.Context()
	enqueue := func(campaign string, n int, at time.Time) {
		t.Helper()
		var regs []record.Registration
		for i := range n {
			regs = append(regs, record.Registration{Invite: testInviteIn(t, campaign, fmt.Sprintf("%s%d@example.org", campaign, i)),
				Scheduled: !at.IsZero(), ProcessAt: at})
		}
		if err := c.Register(ctx, regs, record.RegisterOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.CampaignQueue(ctx, tasks.DefaultQueue, campaign, tasks.DefaultSender, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // created_at_ms orders the lane
	}
	outlook := func(campaign string) record.Outlook {
		t.Helper()
		counts, err := c.Counts(ctx, campaign)
		if err != nil {
			t.Fatal(err)
		}
		o, err := c.Outlook(ctx, counts)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	enqueue("winter", 40, time.Time{})
	enqueue("spring", 5, time.Time{}) // the lanes' asynq queues are empty here: the same lane, behind winter
	at := time.Now().Add(3 * time.Hour)
	enqueue("summer", 3, at)
	if o := outlook("spring"); o.ETASeconds != nil || o.Waiting != "no running worker serves sender "+tasks.DefaultSender {
		t.Fatalf("before any worker: ETA %v, waiting %q", fmtETA(o.ETASeconds), o.Waiting)
	}
	if err := c.Beat(ctx, []string{tasks.DefaultSender}); err != nil {
		t.Fatal(err)
	}
	if o := outlook("spring"); o.ETASeconds != nil || o.Waiting != "unknown: no pace known yet" {
		t.Fatalf("no pace: ETA %v, waiting %q", fmtETA(o.ETASeconds), o.Waiting)
	}
	conn.HSet(ctx, c.k.gate(tasks.DefaultSender), "interval", 1000, "limited_ever", 1)
	o := outlook("spring")
	if o.ETASeconds == nil || *o.ETASeconds < 44 || *o.ETASeconds > 46 || o.Lane != "n0" || o.Priority != "normal" {
		t.Fatalf("spring: ETA %v, lane %q %q, want 45 s in n0 (%q)", fmtETA(o.ETASeconds), o.Lane, o.Priority, o.Waiting)
	}
	if want := "behind 40 invites of campaign winter on sender " + tasks.DefaultSender; o.Waiting != want {
		t.Fatalf("spring waits %q, want %q", o.Waiting, want)
	}
	o = outlook("summer")
	if o.ETASeconds == nil || *o.ETASeconds < 3*3600-5 || *o.ETASeconds > 3*3600+10 || !strings.HasPrefix(o.Waiting, "scheduled from ") {
		t.Fatalf("summer: ETA %v, waiting %q, want about 3 h, scheduled", fmtETA(o.ETASeconds), o.Waiting)
	}
	if _, err := c.SetPause(ctx, record.PauseCampaign, "winter", record.PauseManual, "held by hand"); err != nil {
		t.Fatal(err)
	}
	if o := outlook("winter"); o.ETASeconds != nil || o.Waiting != "paused: held by hand" {
		t.Fatalf("paused winter: ETA %v, waiting %q", fmtETA(o.ETASeconds), o.Waiting)
	}
	if o := outlook("spring"); o.ETASeconds == nil || *o.ETASeconds > 6 || o.Waiting != "" {
		t.Fatalf("spring with winter paused: ETA %v, waiting %q, want 5 s", fmtETA(o.ETASeconds), o.Waiting)
	}
}

func fmtETA(eta *float64) string {
	if eta == nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f s", *eta)
}
