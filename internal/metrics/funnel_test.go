package metrics_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/mxinvite/mxinvite/internal/metrics"
	"github.com/mxinvite/mxinvite/internal/record"
)

func TestFunnelPerCampaign(t *testing.T) {
	var fail atomic.Bool
	source := func(context.Context) (map[string]record.Funnel, error) {
		if fail.Load() {
			return nil, errors.New("redis down")
		}
		return map[string]record.Funnel{"onboard": {Sent: 55, Registered: 10, Joined: 15}, "empty": {}}, nil
	}
	_, scrape := newMetrics(t, metrics.Options{Funnels: source})
	s := scrape()
	want(t, s, `mxinvite_campaign_funnel{campaign="onboard",stage="sent"}`, 55)
	want(t, s, `mxinvite_campaign_funnel{campaign="onboard",stage="registered"}`, 10)
	want(t, s, `mxinvite_campaign_funnel{campaign="onboard",stage="joined"}`, 15)
	want(t, s, `mxinvite_campaign_funnel_up`, 1)
	if s.Count(`mxinvite_campaign_funnel{campaign="empty"`) != 0 {
		t.Error("a campaign with nothing sent is exported")
	}
	fail.Store(true)
	s = scrape()
	want(t, s, `mxinvite_campaign_funnel_up`, 0)
}
