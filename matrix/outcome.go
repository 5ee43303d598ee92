package matrix

import "time"

// bodySampleBytes is how much of a raw body an Outcome keeps for diagnostics.
const bodySampleBytes = 512

// Outcome is the result of one call: one attempt (or, for a PUT invite that
// fell back, the PUT and the POST together).
type Outcome struct {
	// Status is the final code and message (the server's "error" text or the
	// transport error text), tokens redacted.
	Status Status
	// HTTPStatus is the HTTP status of the last answer, 0 when there was none.
	HTTPStatus int
	// ErrCode is the Matrix error body's errcode, "" if none.
	ErrCode ErrCode
	// ServerError is the Matrix error body's "error" field, tokens redacted.
	ServerError string
	// SoftLogout is the "soft_logout" of a 401 M_UNKNOWN_TOKEN (spec:
	// "Soft logout"): true means the session may be renewed with a refresh
	// token or a fresh login of the same device; false (the default, and
	// what a revoked, logged-out or expired MAS token answers) means the
	// token is dead. Always false for other errcodes.
	SoftLogout bool
	// RetryAfter is the advised delay for TooManyRequests, clamped to
	// [0, ClientConfig.MaxRetryAfter]; 0 for every other code.
	RetryAfter time.Duration
	// Retryable is true for NetworkError, IncorrectResponse, Timeout and
	// TooManyRequests, the codes libQuotient retries.
	Retryable bool
	// BodySample is the first bytes (at most 512) of the raw body, tokens
	// redacted, for diagnostics.
	BodySample []byte
	// Requests counts the HTTP requests actually written to the wire: 0 when
	// nothing was sent (missing token, bad URL, connection refused), 2 when a
	// PUT fell back to POST, more when redirects were followed.
	Requests int
	// Method is the HTTP method of the last request, "PUT" or "POST" for an
	// invite.
	Method string
	// Duration is the wall time of the whole call.
	Duration time.Duration
	// WroteAt is when the last request was written to the wire (local
	// clock), zero when none was: a caller that noted when it decided to
	// send learns how long the request really waited before it went (a
	// loaded process, a connection to open).
	WroteAt time.Time
}

// Ambiguous reports whether a request reached the wire and the answer does
// not tell whether the server acted on it: a 5xx other than those that say
// the request was not processed (see notProcessed); a Timeout, NetworkError
// or Abandoned call with no HTTP status (or a 2xx whose body never arrived);
// an IncorrectResponse on a 2xx. For a 3PID invite that means the identity
// server may already have emailed the invitee, so a blind retry could email
// them twice. A request never written (Requests == 0: refused connection,
// timeout while connecting) and a 429 are not ambiguous.
func (o Outcome) Ambiguous() bool {
	if o.Requests == 0 {
		return false
	}
	if o.HTTPStatus >= 500 && o.HTTPStatus <= 599 {
		return !notProcessed(o.HTTPStatus)
	}
	success := o.HTTPStatus >= 200 && o.HTTPStatus <= 299
	switch o.Status.Code {
	case Timeout, NetworkError, Abandoned:
		// A 3xx or 4xx status says the server did not act, even if the body
		// never arrived; no status, or a 2xx without its body, says nothing.
		return o.HTTPStatus == 0 || success
	case IncorrectResponse:
		return success
	}
	return false
}

// notProcessed lists the 5xx statuses that say the request was refused
// before anything was done with it (RFC 9110 §15.6): 501 (method not
// supported), 503 (unavailable: a proxy whose upstream is gone, Synapse or
// MAS refusing while a dependency is down), 505 (HTTP version) and 511 (a
// captive portal, RFC 6585). 500, 502, 504 and the rest may come after the
// homeserver called the identity server.
func notProcessed(status int) bool {
	switch status {
	case 501, 503, 505, 511:
		return true
	}
	return false
}

// retryable lists the codes libQuotient retries.
func retryable(code StatusCode) bool {
	switch code {
	case NetworkError, IncorrectResponse, Timeout, TooManyRequests:
		return true
	}
	return false
}
