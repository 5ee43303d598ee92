package worker

import (
	"context"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/matrix"
)

// Sender back-off: libQuotient's schedule is per job, which is right for
// one flaky call and wrong when the cause belongs to the sender or its
// server. Synapse answers 500 whenever the identity server refuses — Sydent
// limits emails per sender, 5 then one per 300 s — so a campaign meets a
// wall of 500s in which every address would burn its retries in 37 s.
//
// So the sender's gate also counts, per sender, the distinct invites whose
// answers were ambiguous (5xx, a timeout after sending) since the sender's
// last success. When BackoffThreshold different invites fail with no
// success between them, the sender's gate closes for the next wait of the
// back-off schedule (the retry policy's waits, then doubling, up to
// BackoffMax), then lets one invite at a time probe. Each probe that fails
// again closes it for the next wait; the first success re-opens it, at the
// pace the server showed it can keep (the time from the gate's closing to
// that success), from which it speeds up again as a new gate does, halving
// the interval while requests succeed; an invite's first failure while it
// speeds up sets the pace back to the last one that worked (and spares the
// invite's retry), which the gate then relaxes slowly as after a 429 (a
// failure of an invite that failed before is likelier its own).
// Invites that fail while the sender backs off do not spend their own
// retries (the cause is not theirs) — until the back-off reaches its
// longest wait, when each failed probe does, so a sender whose server never
// recovers still ends. An address that fails while others succeed is
// retried on its own schedule, as before.
//
// How Redis keeps it: internal/rdb/backoff.go.

// spares reports whether a failure belongs to the sender's back-off rather
// than to the invite: it then costs the invite none of its retries, except
// once the back-off waits its longest (so a server that never recovers
// still lets the invites end).
func spares(v rdb.BackoffVerdict) bool { return v.Level > 0 && !v.AtMax }

// serverFailure reports whether an answer says the sender's server (or the
// way to it) is failing: a 5xx, a timeout, no answer at all — the retried
// failures other than a 429, which the gate paces by its own advice.
func serverFailure(o matrix.Outcome) bool {
	return o.Retryable && o.Status.Code != matrix.TooManyRequests
}

// reportToGate tells the sender's gate what the answer says about the
// sender's server: a server failure counts towards a back-off; any real
// answer, while the sender had failures, ends them.
func (j *job) reportToGate(ctx context.Context, o matrix.Outcome) (rdb.BackoffVerdict, error) {
	h := j.h
	switch {
	case serverFailure(o):
		v, err := h.ledger.Failed(ctx, rdb.GateName(j.inv.Sender, j.p.Path), j.p.Campaign, j.p.Key, j.reservedAt, j.sentAt, j.p.Failures == 0, h.cfg.BackoffThreshold, h.backoff)
		j.p.Failures++
		if err == nil && v.Level > 0 && v.Wait > 0 {
			j.log.Warn().Str("sender", j.inv.Sender).Int("level", v.Level).Int64("wait_ms", v.Wait.Milliseconds()).
				Msg("sender backs off: several invites failed with no success between them")
			h.cfg.Observer.SenderBackoff(j.inv.Sender, v.Wait)
		}
		return v, err
	case j.trouble && recovers(o):
		return rdb.BackoffVerdict{}, h.ledger.Recovered(ctx, rdb.GateName(j.inv.Sender, j.p.Path))
	}
	return rdb.BackoffVerdict{}, nil
}

// recovers reports whether an answer shows the sender's server working: a
// real answer, 2xx or 4xx, not a 429 and not a failure that is retried. A
// final one ends the sender's failures when it is recorded (finish), so
// none goes unreported; reportToGate reports the others while the gate
// said the sender had trouble.
func recovers(o matrix.Outcome) bool {
	return o.Requests > 0 && o.HTTPStatus >= 200 && o.HTTPStatus < 500 && o.Status.Code != matrix.TooManyRequests && !serverFailure(o)
}

// backoffSchedule is the waits of a sender back-off: the policy's waits,
// then doubling, up to longest.
func backoffSchedule(waits []time.Duration, longest time.Duration) []time.Duration {
	var out []time.Duration
	for _, w := range waits {
		if w <= 0 {
			continue
		}
		out = append(out, min(w, longest))
		if w >= longest {
			return out
		}
	}
	next := time.Second
	if len(out) > 0 {
		next = out[len(out)-1] * 2
	}
	for len(out) < 32 {
		if next >= longest {
			return append(out, longest)
		}
		out = append(out, next)
		next *= 2
	}
	return out
}
