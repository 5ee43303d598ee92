package record

import (
	"math"
	"strings"
	"testing"
	"time"
)

var planNow = time.Date(2026, 12, 6, 11, 0, 0, 0, time.UTC)

func sender(interval time.Duration) SenderState {
	return SenderState{Name: "default", Interval: interval, Served: true}
}

// planOf plans cs and returns the plans by campaign name.
func planOf(t *testing.T, s SenderState, cs ...PlanCampaign) map[string]Plan {
	t.Helper()
	ps := PlanSender(s, cs, planNow)
	if len(ps) != len(cs) {
		t.Fatalf("%d plans for %d campaigns", len(ps), len(cs))
	}
	out := map[string]Plan{}
	for i, c := range cs {
		out[c.Name] = ps[i]
	}
	return out
}

// wantETA checks an ETA within 1% (the simulation's steps) of want seconds.
func wantETA(t *testing.T, name string, p Plan, want float64) {
	t.Helper()
	if p.ETASeconds == nil {
		t.Fatalf("%s: ETA unknown (%q), want %.0f s", name, p.Waiting, want)
	}
	if got := *p.ETASeconds; math.Abs(got-want) > 0.01*want+0.5 {
		t.Errorf("%s: ETA %.1f s, want %.1f s", name, got, want)
	}
}

func wantWaiting(t *testing.T, name string, p Plan, want string) {
	t.Helper()
	if !strings.Contains(p.Waiting, want) {
		t.Errorf("%s: waiting %q, want it to say %q", name, p.Waiting, want)
	}
}

func wantUnknown(t *testing.T, name string, p Plan, want string) {
	t.Helper()
	if p.ETASeconds != nil {
		t.Errorf("%s: ETA %.1f s, want unknown", name, *p.ETASeconds)
	}
	wantWaiting(t, name, p, want)
}

func TestPlanBehindInTheSameLane(t *testing.T) {
	ps := planOf(t, sender(time.Second),
		PlanCampaign{Name: "winter", Lane: "n0", Order: 1, Due: 432},
		PlanCampaign{Name: "late", Lane: "n0", Order: 2, Due: 10})
	wantETA(t, "winter", ps["winter"], 432)
	wantWaiting(t, "winter", ps["winter"], "")
	wantETA(t, "late", ps["late"], 442)
	wantWaiting(t, "late", ps["late"], "behind 432 invites of campaign winter on sender default")
}

func TestPlanSharingBetweenLanes(t *testing.T) {
	ps := planOf(t, sender(time.Second),
		PlanCampaign{Name: "bulk", Lane: "n0", Order: 1, Due: 100},
		PlanCampaign{Name: "small", Lane: "n1", Order: 2, Due: 20},
		PlanCampaign{Name: "done", Lane: "n2", Order: 0})
	wantETA(t, "small", ps["small"], 40) // half the pace each
	wantETA(t, "bulk", ps["bulk"], 120)  // then all of it
	wantWaiting(t, "small", ps["small"], "sharing sender default with campaign bulk")
	wantETA(t, "done", ps["done"], 0)
	if ps["done"].Waiting != "" {
		t.Errorf("done: waiting %q", ps["done"].Waiting)
	}
	three := planOf(t, sender(time.Second),
		PlanCampaign{Name: "a", Lane: "n0", Due: 30}, PlanCampaign{Name: "b", Lane: "n1", Due: 30},
		PlanCampaign{Name: "c", Lane: "n2", Due: 30})
	wantETA(t, "a", three["a"], 90)
	wantWaiting(t, "a", three["a"], "sharing sender default with 2 other campaigns")
}

func TestPlanHighPriorityAhead(t *testing.T) {
	ps := planOf(t, sender(time.Second),
		PlanCampaign{Name: "bulk", Lane: "n0", Order: 1, Due: 100},
		PlanCampaign{Name: "urgent", Lane: "high", Order: 2, Due: 10},
		PlanCampaign{Name: "someday", Lane: "low", Order: 0, Due: 5})
	wantETA(t, "urgent", ps["urgent"], 10)
	wantWaiting(t, "urgent", ps["urgent"], "")
	wantETA(t, "bulk", ps["bulk"], 110)
	wantWaiting(t, "bulk", ps["bulk"], "behind 10 invites of higher-priority campaign urgent on sender default")
	wantETA(t, "someday", ps["someday"], 115)
	wantWaiting(t, "someday", ps["someday"], "behind 110 invites of higher-priority campaigns bulk, urgent")
}

func TestPlanScheduledIn3h(t *testing.T) {
	at := planNow.Add(3 * time.Hour)
	ps := planOf(t, sender(time.Second), PlanCampaign{Name: "later", Lane: "n0", Scheduled: 10, SchedFrom: at, SchedUntil: at})
	wantETA(t, "later", ps["later"], 3*3600+10)
	wantWaiting(t, "later", ps["later"], "scheduled from 14:00 UTC")
	if strings.Contains(ps["later"].Waiting, "until") {
		t.Errorf("waiting %q: one time, no window", ps["later"].Waiting)
	}
}

func TestPlanScheduledIn2hSpread1h(t *testing.T) {
	ps := planOf(t, sender(time.Second), PlanCampaign{Name: "spread", Lane: "n0", Scheduled: 100,
		SchedFrom: planNow.Add(2 * time.Hour), SchedUntil: planNow.Add(3 * time.Hour)})
	wantETA(t, "spread", ps["spread"], 3*3600) // the last is sent when it becomes due
	wantWaiting(t, "spread", ps["spread"], "scheduled from 13:00 UTC until 14:00 UTC")
}

func TestPlanSpreadOver10Minutes(t *testing.T) {
	ps := planOf(t, sender(time.Second), PlanCampaign{Name: "spread", Lane: "n0", Due: 3, Scheduled: 47,
		SchedFrom: planNow.Add(-10 * time.Second), SchedUntil: planNow.Add(10 * time.Minute)})
	wantETA(t, "spread", ps["spread"], 600)
	wantWaiting(t, "spread", ps["spread"], "47 more scheduled until 11:10 UTC")
	// Behind a long campaign of its lane, the invites that become due wait
	// for it: the end is the other's end plus what is left.
	ps = planOf(t, sender(time.Second),
		PlanCampaign{Name: "long", Lane: "n0", Order: 1, Due: 900},
		PlanCampaign{Name: "spread", Lane: "n0", Order: 2, Scheduled: 50, SchedFrom: planNow, SchedUntil: planNow.Add(10 * time.Minute)})
	wantETA(t, "spread", ps["spread"], 950)
}

func TestPlanPaused(t *testing.T) {
	pause := &Pause{Scope: PauseCampaign, Name: "held", Reason: "its first invites all failed alike"}
	ps := planOf(t, sender(time.Second),
		PlanCampaign{Name: "held", Lane: "n0", Order: 1, Due: 100, Paused: pause},
		PlanCampaign{Name: "other", Lane: "n0", Order: 2, Due: 10})
	wantUnknown(t, "held", ps["held"], "paused: its first invites all failed alike")
	wantETA(t, "other", ps["other"], 10) // the held invites take no turn
	s := sender(time.Second)
	s.Paused = &Pause{Scope: PauseSender, Name: "default", Reason: "the access token is refused"}
	ps = planOf(t, s, PlanCampaign{Name: "other", Lane: "n0", Due: 10})
	wantUnknown(t, "other", ps["other"], "paused: sender default: the access token is refused")
}

func TestPlanUnknownPace(t *testing.T) {
	ps := planOf(t, sender(0), PlanCampaign{Name: "new", Lane: "n0", Due: 10},
		PlanCampaign{Name: "later", Lane: "n1", Scheduled: 10, SchedFrom: planNow.Add(time.Hour), SchedUntil: planNow.Add(time.Hour)})
	wantUnknown(t, "new", ps["new"], "unknown: no pace known yet")
	wantUnknown(t, "later", ps["later"], "scheduled from 12:00 UTC; no pace known yet")
	learning := sender(0)
	learning.Learning = true
	ps = planOf(t, learning, PlanCampaign{Name: "new", Lane: "n0", Due: 10})
	wantUnknown(t, "new", ps["new"], "unknown: the server limits sender default, whose pace is not known yet")
	s := sender(time.Second)
	s.Served = false
	ps = planOf(t, s, PlanCampaign{Name: "new", Lane: "n0", Due: 10})
	wantUnknown(t, "new", ps["new"], "no running worker serves sender default")
	ps = planOf(t, sender(time.Second), PlanCampaign{Name: "old", Lane: "", Scheduled: 10})
	wantUnknown(t, "old", ps["old"], "scheduled at times this release did not record")
}

func TestPlanBackoff(t *testing.T) {
	s := sender(time.Second)
	s.BackoffUntil = planNow.Add(time.Minute)
	ps := planOf(t, s, PlanCampaign{Name: "c", Lane: "n0", Due: 30})
	wantETA(t, "c", ps["c"], 90)
	wantWaiting(t, "c", ps["c"], "sender default's back-off ends at 11:01 UTC")
}

// The simulation's steps are bounded whatever the figures.
func TestPlanLongCampaignsStayBounded(t *testing.T) {
	ps := planOf(t, sender(400*time.Second), PlanCampaign{Name: "weeks", Lane: "n0", Due: 5000},
		PlanCampaign{Name: "b", Lane: "n1", Due: 1, Scheduled: 5000, SchedFrom: planNow, SchedUntil: planNow.Add(365 * 24 * time.Hour)})
	if w := ps["weeks"].ETASeconds; w == nil || *w < 5000*400 || *w > 5500*400 {
		t.Errorf("weeks: ETA %v s, want about %d s (and b's few turns)", w, 5000*400)
	}
	wantETA(t, "b", ps["b"], 365*24*3600)
}
