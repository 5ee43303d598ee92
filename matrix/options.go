package matrix

import "time"

// CallOption adjusts one call.
type CallOption func(*callOptions)

// callOptions are the per-call settings after defaults.
type callOptions struct {
	timeout       time.Duration
	retryInterval time.Duration
	txnID         string
}

// WithTimeout sets the per-attempt deadline: the whole attempt, including
// reading the body, must finish within d or the call ends as Timeout. A
// non-positive d keeps DefaultCallTimeout. Callers pass RetryPolicy.Timeout.
func WithTimeout(d time.Duration) CallOption {
	return func(o *callOptions) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithRetryInterval sets the current retry interval: the delay reported for a
// 429 that advises none (libQuotient waits its next retry interval then).
// Callers pass RetryPolicy.Wait. Negative values count as zero.
func WithRetryInterval(d time.Duration) CallOption {
	return func(o *callOptions) {
		o.retryInterval = max(d, 0)
	}
}

// WithTxnID makes InviteBy3PID use the idempotent form
// PUT .../invite/{txnId} where the homeserver offers it (Synapse caches the
// answer per device for about 30 minutes), so a retry with the same id does
// not invite, and email, twice. Other calls ignore it.
func WithTxnID(id string) CallOption {
	return func(o *callOptions) { o.txnID = id }
}

// resolveOptions applies opts over the defaults.
func resolveOptions(opts []CallOption) callOptions {
	o := callOptions{timeout: DefaultCallTimeout, retryInterval: DefaultRetryInterval}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}
