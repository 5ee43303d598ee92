package metrics

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// CampaignGauge is what a campaign with pending invites exports: its
// pending invites by state, whether a pause holds it, its ETA, and how
// many of its invites are finished (done or cancelled: progress).
type CampaignGauge struct {
	Campaign string
	// Pending counts the invites not finished, by state (queued,
	// scheduled, active, retrying, paused).
	Pending map[string]int
	// Finished counts its done and cancelled invites: a stuck campaign's
	// does not change.
	Finished int
	Paused   bool
	// ETASeconds is nil while unknown (nothing finished lately, or paused).
	ETASeconds *float64
}

// CampaignSource reads the campaigns that have pending invites (finished
// campaigns are left out, so the campaign label stays bounded by the
// campaigns in progress). internal/ops.StoreCampaigns reads them from Redis.
type CampaignSource interface {
	PendingCampaigns(ctx context.Context) ([]CampaignGauge, error)
}

var (
	descCampaignPending = prometheus.NewDesc("mxinvite_campaign_pending",
		"Invites of a campaign not finished yet, by state (queued, scheduled, active, retrying, paused), read from Redis at each scrape; campaigns with nothing pending have no series.",
		[]string{"campaign", "state"}, nil)
	descCampaignFinished = prometheus.NewDesc("mxinvite_campaign_finished",
		"Invites of a campaign in progress that are finished (done or cancelled), read from Redis at each scrape: a campaign whose value does not change while invites are due is stuck.",
		[]string{"campaign"}, nil)
	descCampaignPaused = prometheus.NewDesc("mxinvite_campaign_paused",
		"1 while a pause (of the campaign or of its sender) holds a campaign in progress, else 0.", []string{"campaign"}, nil)
	descCampaignETA = prometheus.NewDesc("mxinvite_campaign_eta_seconds",
		"Expected seconds until every invite of a campaign in progress is final, at its pace; no series while unknown or paused.", []string{"campaign"}, nil)
	descCampaignsUp = prometheus.NewDesc("mxinvite_campaign_metrics_up",
		"1 when the campaigns could be read from Redis at this scrape, else 0.", nil, nil)
	descCampaignsCapped = prometheus.NewDesc("mxinvite_campaigns_over_cap",
		"Campaigns in progress left out of the per-campaign series past the cap (MaxCampaignGauges).", nil, nil)
)

// campaignCollector exports CampaignSource's gauges at each scrape.
type campaignCollector struct {
	src     CampaignSource
	timeout time.Duration
	max     int
}

func (c *campaignCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCampaignPending, descCampaignFinished, descCampaignPaused, descCampaignETA, descCampaignsUp, descCampaignsCapped} {
		ch <- d
	}
}

func (c *campaignCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	gs, err := c.src.PendingCampaigns(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(descCampaignsUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descCampaignsUp, prometheus.GaugeValue, 1)
	sort.Slice(gs, func(i, j int) bool { return gs[i].Campaign < gs[j].Campaign })
	over := max(0, len(gs)-c.max)
	ch <- prometheus.MustNewConstMetric(descCampaignsCapped, prometheus.GaugeValue, float64(over))
	for _, g := range gs[:len(gs)-over] {
		for _, state := range PendingStates {
			ch <- prometheus.MustNewConstMetric(descCampaignPending, prometheus.GaugeValue, float64(g.Pending[state]), g.Campaign, state)
		}
		ch <- prometheus.MustNewConstMetric(descCampaignFinished, prometheus.GaugeValue, float64(g.Finished), g.Campaign)
		ch <- prometheus.MustNewConstMetric(descCampaignPaused, prometheus.GaugeValue, float64(b2i(g.Paused)), g.Campaign)
		if g.ETASeconds != nil {
			ch <- prometheus.MustNewConstMetric(descCampaignETA, prometheus.GaugeValue, *g.ETASeconds, g.Campaign)
		}
	}
}

// PendingStates are the state label's values of mxinvite_campaign_pending
// (record's pending states; every one is exported, 0 included, so a
// query need not guess which exist).
var PendingStates = []string{"queued", "scheduled", "active", "retrying", "paused"}
