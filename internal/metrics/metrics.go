// Package metrics exports what a worker does as Prometheus metrics: it
// implements observe.Observer (without importing the worker) on its own
// registry, with asynq's queue metrics read from an Inspector at each
// scrape. docs/metrics.md lists every metric.
package metrics

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configures New. Zero fields take the documented defaults.
type Options struct {
	// Inspector reads the queues' state for the asynq_* metrics at each
	// scrape. Default nil: no queue metrics.
	Inspector *asynq.Inspector
	// Queues are the asynq queues exported. Default none.
	Queues []string
	// QueueReadTimeout bounds the queues' read at a scrape; past it the
	// scrape answers without them (mxinvite_queue_metrics_up 0). Default 3 s.
	QueueReadTimeout time.Duration

	// Campaigns, when set, exports the per-campaign gauges of the campaigns
	// in progress (mxinvite_campaign_*), read at each scrape within
	// QueueReadTimeout. Default nil: none.
	Campaigns CampaignSource
	// MaxCampaignGauges bounds how many campaigns in progress have
	// per-campaign gauges (by name; the rest are counted in
	// mxinvite_campaigns_over_cap). Default 100.
	MaxCampaignGauges int

	// Senders are the configured senders: each has its
	// mxinvite_sender_paused series (0) from the start. Default none.
	Senders []string

	// MaxSenders bounds the sender label: the first MaxSenders names seen
	// keep their own series, later ones count as "other". Senders come from
	// the configuration, so the cap only guards against tasks naming
	// senders no one configured. Default 100.
	MaxSenders int
	// MaxCampaigns bounds the campaign label of
	// mxinvite_campaign_invites_finished_total: the MaxCampaigns campaigns
	// that finished an invite most recently keep their series; the series of
	// the one least recently seen is deleted when another arrives. Default 20.
	MaxCampaigns int
	// MaxReasons bounds the reason label of pauses; later reasons count as
	// "other". Default 16.
	MaxReasons int

	// Funnels reads every campaign's funnel for mxinvite_campaign_funnel at
	// each scrape (bounded by QueueReadTimeout; at most
	// MaxFunnelCampaigns campaigns). Default nil: no funnel metrics.
	Funnels FunnelSource
	// MaxFunnelCampaigns bounds the campaign label of the funnel. Default 100.
	MaxFunnelCampaigns int
}

// WithDefaults returns a copy with every zero field set to its default.
func (o Options) WithDefaults() Options {
	if o.MaxSenders == 0 {
		o.MaxSenders = 100
	}
	if o.MaxCampaigns == 0 {
		o.MaxCampaigns = 20
	}
	if o.MaxCampaignGauges == 0 {
		o.MaxCampaignGauges = 100
	}
	if o.MaxReasons == 0 {
		o.MaxReasons = 16
	}
	if o.MaxFunnelCampaigns == 0 {
		o.MaxFunnelCampaigns = 100
	}
	if o.QueueReadTimeout == 0 {
		o.QueueReadTimeout = 3 * time.Second
	}
	return o
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	for name, n := range map[string]int{"MaxSenders": o.MaxSenders, "MaxCampaigns": o.MaxCampaigns, "MaxReasons": o.MaxReasons, "MaxCampaignGauges": o.MaxCampaignGauges, "MaxFunnelCampaigns": o.MaxFunnelCampaigns} {
		if n < 1 {
			return fmt.Errorf("metrics options: %s %d must be at least 1", name, n)
		}
	}
	if o.QueueReadTimeout < 0 {
		return fmt.Errorf("metrics options: QueueReadTimeout %v must not be negative", o.QueueReadTimeout)
	}
	if len(o.Queues) > 0 && o.Inspector == nil {
		return fmt.Errorf("metrics options: Queues %q need an Inspector", o.Queues)
	}
	return nil
}

// Metrics is a registry of mxinvite's metrics and the observe.Observer that
// feeds it. It is safe for concurrent use.
type Metrics struct {
	reg        *prometheus.Registry
	collectors []prometheus.Collector // what reg has, for Names

	senders   *cappedLabel
	reasons   *cappedLabel
	campaigns *recentLabel

	finished         *prometheus.CounterVec
	campaignFinished *prometheus.CounterVec
	attempts         *prometheus.CounterVec
	requests         *prometheus.CounterVec
	rateLimited      *prometheus.CounterVec
	ambiguous        *prometheus.CounterVec
	gateWait         *prometheus.HistogramVec
	latency          *prometheus.HistogramVec
	paused           *prometheus.GaugeVec
	pauses           *prometheus.CounterVec
	backoff          *prometheus.HistogramVec
	capped           *prometheus.CounterVec
}

// New builds the metrics on a registry of their own (with the Go runtime's
// and the process's collectors).
func New(opts Options) (*Metrics, error) {
	opts = opts.WithDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.capped = m.counter("metric_labels_capped_total",
		"Observations whose sender or reason was counted as \"other\" past the cap, and campaigns whose series were deleted to make room for a newer one.", "label")
	m.senders = newCappedLabel(opts.MaxSenders, func() { m.capped.WithLabelValues("sender").Inc() })
	m.reasons = newCappedLabel(opts.MaxReasons, func() { m.capped.WithLabelValues("reason").Inc() })
	m.campaigns = newRecentLabel(opts.MaxCampaigns, func(evicted string) {
		m.campaignFinished.DeletePartialMatch(prometheus.Labels{"campaign": evicted})
		m.capped.WithLabelValues("campaign").Inc()
	})

	m.finished = m.counter("invites_finished_total", "Invites that reached a final status, by sender and status name.", "sender", "status")
	m.campaignFinished = m.counter("campaign_invites_finished_total",
		"Invites that reached a final status, by campaign (the most recent ones only, see docs/metrics.md) and status name.", "campaign", "status")
	m.attempts = m.counter("invite_attempts_total", "Invite calls made, by sender and the status of their outcome.", "sender", "status")
	m.requests = m.counter("invite_requests_total", "Invite HTTP requests written to the wire.", "sender")
	m.rateLimited = m.counter("rate_limited_total", "Invite calls answered 429 Too Many Requests.", "sender")
	m.ambiguous = m.counter("ambiguous_answers_total",
		"Invite calls whose answer does not say whether the server acted (5xx, timeout after sending).", "sender")
	m.gateWait = m.histogram("gate_wait_seconds", "Time an invite waited in-process for its sender's rate-limit gate before its request went out.",
		[]float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})
	m.latency = m.histogram("invite_latency_seconds", "Time from an invite's creation (enqueue) to its final status, scheduled delays included.",
		[]float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600})
	m.backoff = m.histogram("sender_backoff_seconds", "Back-offs a sender took (holding its requests back), by length.",
		[]float64{1, 5, 15, 60, 300, 900, 3600})
	m.paused = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "sender_paused", Help: "1 while a sender is paused (in Redis, by anyone), else 0.",
	}, []string{"sender"})
	m.pauses = m.counter("sender_pauses_total", "Times a sender was paused, by reason.", "sender", "reason")
	for _, s := range opts.Senders {
		m.paused.WithLabelValues(m.senders.value(s)).Set(0)
	}
	m.register(m.paused, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if opts.Inspector != nil {
		m.register(newQueueCollector(opts.Inspector, opts.Queues, opts.QueueReadTimeout))
	}
	if opts.Campaigns != nil {
		m.register(&campaignCollector{src: opts.Campaigns, timeout: opts.QueueReadTimeout, max: opts.MaxCampaignGauges})
	}
	if opts.Funnels != nil {
		m.reg.MustRegister(&funnelCollector{read: opts.Funnels, timeout: opts.QueueReadTimeout, maxCampaigns: opts.MaxFunnelCampaigns})
	}
	return m, nil
}

const namespace = "mxinvite"

func (m *Metrics) register(cs ...prometheus.Collector) {
	m.reg.MustRegister(cs...)
	m.collectors = append(m.collectors, cs...)
}

// Names lists the name of every metric a worker exports (a histogram's
// base name, without _bucket/_sum/_count), sorted: what dashboards and
// alert rules may query (deploy/ is checked against it).
func Names() []string {
	m, err := New(Options{})
	if err != nil {
		panic(err) // the defaults are valid
	}
	cs := append(m.collectors, &queueCollector{}, &campaignCollector{})
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range cs {
			c.Describe(ch)
		}
		close(ch)
	}()
	seen := map[string]bool{}
	for d := range ch {
		if f := fqName.FindStringSubmatch(d.String()); f != nil {
			seen[f[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fqName finds a Desc's name in its String() (the Desc has no getter).
var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (m *Metrics) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	m.register(c)
	return c
}

func (m *Metrics) histogram(name, help string, buckets []float64) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets}, []string{"sender"})
	m.register(h)
	return h
}

// Registry is where the metrics are registered (to add others, or gather
// them in tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's exposition formats. A
// collector that fails (Redis unreachable for the queue metrics) does not
// fail the scrape: the rest is served, and mxinvite_queue_metrics_up says so.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		Registry:            m.reg, // counts its own errors in promhttp_metric_handler_errors_total
		MaxRequestsInFlight: 4,
	})
}
