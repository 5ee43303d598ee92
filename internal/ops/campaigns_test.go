package ops_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/metrics"
	"github.com/mxinvite/mxinvite/internal/metrics/metricstest"
	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/tasks"
)

// The per-campaign gauges come from Redis at each scrape: a campaign in
// progress has its pending invites by state, finished count and pause;
// a campaign with nothing pending (here: cancelled) has no series.
func TestCampaignGaugesFromRedis(t *testing.T) {
	r := redistest.Start(t)
	store := rdb.New(r.Client(t), rdb.Options{Prefix: redistest.Unique(t, "mx")})
	ctx := context.Background()
	prod := producer.New(store, "q-"+t.Name())
	enqueue := func(campaign string, addrs ...string) {
		t.Helper()
		var items []producer.Item
		for _, a := range addrs {
			inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: "!r:test", Medium: tasks.MediumEmail, Address: a})
			if err != nil {
				t.Fatal(err)
			}
			items = append(items, producer.Item{Invite: inv})
		}
		if _, err := prod.EnqueueBatch(ctx, items, producer.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue("running", "a@example.org", "b@example.org")
	enqueue("gone", "c@example.org")
	if _, err := prod.Cancel(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.CancelInvite(ctx, mustKey(t, "running", "b@example.org")); err != nil {
		t.Fatal(err)
	}
	m, err := metrics.New(metrics.Options{Campaigns: ops.StoreCampaigns{Store: store}, QueueReadTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(m.Handler())
	t.Cleanup(ts.Close)
	s := metricstest.Scrape(t, ts.URL)
	for series, v := range map[string]float64{
		`mxinvite_campaign_pending{campaign="running",state="queued"}`:    1,
		`mxinvite_campaign_pending{campaign="running",state="scheduled"}`: 0,
		`mxinvite_campaign_finished{campaign="running"}`:                  1,
		`mxinvite_campaign_paused{campaign="running"}`:                    0,
		`mxinvite_campaign_metrics_up`:                                    1,
	} {
		if got, ok := s[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	for series := range s {
		if containsLabel(series, `campaign="gone"`) {
			t.Errorf("a campaign with nothing pending has a series: %s", series)
		}
	}
	if _, err := store.SetPause(ctx, record.PauseCampaign, "running", record.PauseManual, "held"); err != nil {
		t.Fatal(err)
	}
	if s := metricstest.Scrape(t, ts.URL); s[`mxinvite_campaign_paused{campaign="running"}`] != 1 || s.Has(`mxinvite_campaign_eta_seconds{campaign="running"}`) {
		t.Errorf("paused: %v, ETA present %v", s[`mxinvite_campaign_paused{campaign="running"}`], s.Has(`mxinvite_campaign_eta_seconds{campaign="running"}`))
	}
}

// The state label's values are record's pending states.
func TestCampaignGaugeStatesAreThePendingStates(t *testing.T) {
	var want []string
	for _, s := range record.States {
		if s.Pending() {
			want = append(want, string(s))
		}
	}
	if !slices.Equal(metrics.PendingStates, want) {
		t.Fatalf("metrics.PendingStates %v, record's pending states %v", metrics.PendingStates, want)
	}
}

func mustKey(t *testing.T, campaign, addr string) string {
	t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: "!r:test", Medium: tasks.MediumEmail, Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	return inv.Key()
}

func containsLabel(series, label string) bool {
	for i := 0; i+len(label) <= len(series); i++ {
		if series[i:i+len(label)] == label {
			return true
		}
	}
	return false
}
