package metrics

import (
	"context"
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mxinvite/mxinvite/internal/record"
)

// FunnelSource reads the funnel of each campaign (rdb, wired by the
// binary: this package reads no Redis itself).
type FunnelSource func(ctx context.Context) (map[string]record.Funnel, error)

// funnelCollector exports each campaign's funnel, read at each scrape:
// mxinvite_campaign_funnel{campaign, stage="sent"|"registered"|"joined"}.
// Only campaigns whose funnel is not all zero are exported, at most
// maxCampaigns of them (by name), so the label stays bounded.
type funnelCollector struct {
	read         FunnelSource
	timeout      time.Duration
	maxCampaigns int
	reading      atomic.Bool
}

var (
	descFunnel = prometheus.NewDesc(namespace+"_campaign_funnel",
		"What became of a campaign's invites: sent (by Matrix ID or 3PID), registered (3PID invitees who bound the address to an account since), "+
			"joined (invitees now in the room, those there before included); see mxinvite track.", []string{"campaign", "stage"}, nil)
	descFunnelUp = prometheus.NewDesc(namespace+"_campaign_funnel_up", "1 when the funnels could be read at this scrape, else 0.", nil, nil)
)

func (c *funnelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFunnel
	ch <- descFunnelUp
}

func (c *funnelCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.reading.CompareAndSwap(false, true) {
		ch <- prometheus.MustNewConstMetric(descFunnelUp, prometheus.GaugeValue, 0)
		return
	}
	defer c.reading.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	funnels, err := c.read(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descFunnelUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descFunnelUp, prometheus.GaugeValue, 1)
	names := make([]string, 0, len(funnels))
	for name, f := range funnels {
		if f != (record.Funnel{}) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names[:min(len(names), c.maxCampaigns)] {
		f := funnels[name]
		for stage, v := range map[string]int{"sent": f.Sent, "registered": f.Registered, "joined": f.Joined} {
			ch <- prometheus.MustNewConstMetric(descFunnel, prometheus.GaugeValue, float64(v), name, stage)
		}
	}
}
