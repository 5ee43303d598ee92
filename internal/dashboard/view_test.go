package dashboard

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/record"
)

func TestCampaignView(t *testing.T) {
	rate := 0.0
	eta := 5400.0
	c := Campaign{Name: "c", RatePerMinute: 12.5, ETASeconds: &eta, Counts: record.CampaignCounts{
		Enqueued: 10,
		States:   map[record.State]int{"done": 6, "queued": 2, "retrying": 1, "cancelled": 1, "weird": 0, "held": 0},
		Statuses: map[string]int{"NotFound": 2, "Success": 3, "NetworkError": 1, "Bogus": 1},
	}}
	v := newCampaignView(c)
	if v.Total != 10 || v.Finished != 7 || v.Pending != 3 || v.Percent != 70 {
		t.Errorf("total %d finished %d pending %d percent %d; want 10 7 3 70", v.Total, v.Finished, v.Pending, v.Percent)
	}
	var states []string
	for _, s := range v.States {
		states = append(states, s.Name)
	}
	if got := join(states); got != "queued retrying done cancelled" {
		t.Errorf("states in order %q", got)
	}
	var codes []int
	for _, s := range v.Statuses {
		codes = append(codes, s.Code)
	}
	if len(codes) != 4 || codes[0] != 0 || codes[1] != 101 || codes[2] != 105 || codes[3] != -1 {
		t.Errorf("statuses by number %v, want 0 101 105 then the unknown name", codes)
	}
	if len(v.Failures) != 3 {
		t.Errorf("%d failure statuses, want 3 (all but Success)", len(v.Failures))
	}
	if v.ETA != "≈ 1 h 30 min" || v.Rate != "12.5/min" || v.Pace != "unknown" {
		t.Errorf("ETA %q, rate %q, pace %q", v.ETA, v.Rate, v.Pace)
	}
	c.Pause = &Pause{Scope: ScopeSender, Name: "s", Reason: "r"}
	if v := newCampaignView(c); v.ETA != "paused" {
		t.Errorf("paused ETA %q", v.ETA)
	}
	c.Pause, c.ETASeconds, c.PacePerMinute = nil, nil, &rate
	if v := newCampaignView(c); v.ETA != "unknown" || v.Pace != "0.0/min" {
		t.Errorf("no ETA: %q, pace %q", v.ETA, v.Pace)
	}
	c.Counts.States = map[record.State]int{"done": 10}
	if v := newCampaignView(c); v.ETA != "finished" || v.Percent != 100 {
		t.Errorf("finished campaign: ETA %q, %d%%", v.ETA, v.Percent)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

func TestDurationText(t *testing.T) {
	for d, want := range map[float64]string{0: "0 s", 59: "59 s", 61: "1 min", 3600: "1 h 0 min", 86400*5 + 3600*4: "5 d 4 h"} {
		c := Campaign{Counts: record.CampaignCounts{Enqueued: 1}, ETASeconds: &d}
		if got := etaText(c, 1); got != "≈ "+want {
			t.Errorf("ETA of %v s: %q, want %q", d, got, want)
		}
	}
}

// The card says what it knows: a state label (active reads running; a
// pause holding pending invites makes it paused; a pause left on a
// cancelled campaign is no banner and no Resume), successes and failures
// apart, and a campaign no worker serves waits for one.
func TestCampaignViewLabels(t *testing.T) {
	pause := &Pause{Scope: ScopeCampaign, Name: "c", Reason: "r"}
	for _, tt := range []struct {
		name      string
		c         Campaign
		state     string
		showPause bool
		eta       string
	}{
		{"running", Campaign{Counts: record.CampaignCounts{Enqueued: 2, States: map[record.State]int{"queued": 1, "done": 1}, Statuses: map[string]int{"Success": 1}}}, "running", false, "unknown"},
		{"paused", Campaign{Pause: pause, Counts: record.CampaignCounts{Enqueued: 2, States: map[record.State]int{"queued": 2}}}, "paused", true, "paused"},
		{"cancelled keeps no pause", Campaign{Pause: pause, Counts: record.CampaignCounts{Enqueued: 40, States: map[record.State]int{"done": 5, "cancelled": 35}, Statuses: map[string]int{"NotFound": 5}}}, "cancelled", false, "cancelled"},
		{"scheduled", Campaign{Counts: record.CampaignCounts{Enqueued: 3, States: map[record.State]int{"scheduled": 3}}}, "scheduled", false, "unknown"},
		{"finished", Campaign{Counts: record.CampaignCounts{Enqueued: 1, States: map[record.State]int{"done": 1}, Statuses: map[string]int{"Success": 1}}}, "finished", false, "finished"},
		{"empty", Campaign{}, "empty", false, "unknown"},
		{"no worker", Campaign{Unserved: true, Counts: record.CampaignCounts{Enqueued: 2, States: map[record.State]int{"active": 2}}}, "running", false, "waiting for a worker"},
	} {
		v := newCampaignView(tt.c)
		if v.State != tt.state || v.ShowPause != tt.showPause || v.ETA != tt.eta {
			t.Errorf("%s: state %q pause %v ETA %q; want %q %v %q", tt.name, v.State, v.ShowPause, v.ETA, tt.state, tt.showPause, tt.eta)
		}
	}
	// 0 successes, 5 failed, 35 cancelled: no green at all.
	v := newCampaignView(Campaign{Counts: record.CampaignCounts{Enqueued: 40, States: map[record.State]int{"done": 5, "cancelled": 35}, Statuses: map[string]int{"NotFound": 5}}})
	if v.Succeeded != 0 || v.Failed != 5 || v.Cancelled != 35 || v.Bar != (barView{OK: 0, Bad: 125, Cancelled: 875, BadX: 0, CancelledX: 125}) {
		t.Errorf("bar %+v, succeeded %d failed %d cancelled %d", v.Bar, v.Succeeded, v.Failed, v.Cancelled)
	}
}

// A dead worker's invites show as "recovering", right after "active", and
// count as pending.
func TestCampaignViewShowsRecoveringAfterActive(t *testing.T) {
	c := Campaign{Name: "c", Counts: record.CampaignCounts{Enqueued: 6,
		States: map[record.State]int{"done": 2, "recovering": 3, "active": 1}}}
	v := newCampaignView(c)
	var states []string
	for _, s := range v.States {
		states = append(states, s.Name)
	}
	if got := join(states); got != "active recovering done" || v.Pending != 4 {
		t.Errorf("states %q, pending %d; want active recovering done, 4 pending", got, v.Pending)
	}
}

// The campaign's view says what it waits for, apart from its ETA; an
// unknown ETA says unknown, never "≈ 0 s".
func TestViewSaysWhatTheCampaignWaitsFor(t *testing.T) {
	eta := 442.0
	c := Campaign{Name: "late", Counts: record.CampaignCounts{Enqueued: 10, States: map[record.State]int{"queued": 10}},
		ETASeconds: &eta, Waiting: "behind 432 invites of campaign winter on sender default", Lane: "n0", Priority: "normal"}
	if v := newCampaignView(c); v.ETA != "≈ 7 min" || v.WaitingFor != c.Waiting {
		t.Fatalf("ETA %q, waiting %q", v.ETA, v.WaitingFor)
	}
	c.ETASeconds, c.Waiting = nil, "unknown: no pace known yet"
	if v := newCampaignView(c); v.ETA != "unknown" || v.WaitingFor != "no pace known yet" {
		t.Fatalf("ETA %q, waiting %q", v.ETA, v.WaitingFor)
	}
}
