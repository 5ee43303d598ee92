package metrics

import (
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// The methods below make *Metrics a observe.Observer.

// Attempt counts one invite call: its status, the requests it wrote, and
// whether it was rate limited or ambiguous.
func (m *Metrics) Attempt(sender string, o matrix.Outcome) {
	s := m.senders.value(sender)
	m.attempts.WithLabelValues(s, o.Status.Code.String()).Inc()
	if o.Requests > 0 {
		m.requests.WithLabelValues(s).Add(float64(o.Requests))
	}
	if o.Status.Code == matrix.TooManyRequests {
		m.rateLimited.WithLabelValues(s).Inc()
	}
	if o.Ambiguous() {
		m.ambiguous.WithLabelValues(s).Inc()
	}
}

// GateWait observes one wait for the rate-limit gate.
func (m *Metrics) GateWait(sender string, d time.Duration) {
	m.gateWait.WithLabelValues(m.senders.value(sender)).Observe(d.Seconds())
}

// InviteFinished counts a final status, by sender and by campaign, and
// observes the invite's latency.
func (m *Metrics) InviteFinished(sender, campaign string, status matrix.StatusCode, latency time.Duration) {
	s, st := m.senders.value(sender), status.String()
	m.finished.WithLabelValues(s, st).Inc()
	m.latency.WithLabelValues(s).Observe(max(latency, 0).Seconds())
	m.campaigns.with(campaign, func(c string) { m.campaignFinished.WithLabelValues(c, st).Inc() })
}

// SenderChecked is not a metric: readiness reports it (see internal/ops).
func (m *Metrics) SenderChecked(string, error) {}

// SenderPaused sets the sender's paused gauge and counts the pause.
func (m *Metrics) SenderPaused(sender, reason string) {
	s := m.senders.value(sender)
	m.paused.WithLabelValues(s).Set(1)
	m.pauses.WithLabelValues(s, m.reasons.value(reason)).Inc()
}

// SenderResumed clears the sender's paused gauge.
func (m *Metrics) SenderResumed(sender string) { m.SetSenderPaused(sender, false) }

// SetSenderPaused sets the sender's paused gauge to what Redis says: the
// worker's own events set it at once, but a pause or resume made elsewhere
// (mxinvite resume, the dashboard, another worker, a Redis restarted
// empty) reaches this process only through a poll of Redis
// (internal/ops.SenderPauses), which calls this.
func (m *Metrics) SetSenderPaused(sender string, paused bool) {
	v := 0.0
	if paused {
		v = 1
	}
	m.paused.WithLabelValues(m.senders.value(sender)).Set(v)
}

// SenderBackoff observes one back-off.
func (m *Metrics) SenderBackoff(sender string, d time.Duration) {
	m.backoff.WithLabelValues(m.senders.value(sender)).Observe(max(d, 0).Seconds())
}
