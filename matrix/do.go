package matrix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// errAttemptDeadline is the cause of the per-attempt context; it tells our
// own deadline (Timeout) apart from the caller's cancellation (Abandoned).
var errAttemptDeadline = errors.New("matrix: per-attempt deadline exceeded")

// call is one HTTP request, described before it is sent.
type call struct {
	method    string
	url       *url.URL // nil when urlErr is set
	urlErr    error    // the URL could not be built: IncorrectRequest, never sent
	token     string   // bearer token; empty means Unauthorised, never sent
	anonymous bool     // the endpoint takes no token: none is required or sent
	body      []byte   // JSON body, nil for requests without one
	secrets   []string // more secrets to redact besides the access token
	opts      callOptions
}

// do is the one place where a request becomes an Outcome: the invite and
// every preflight call go through it, so they classify answers identically.
// It also returns the raw body (capped) for the caller to decode.
func (c *Client) do(ctx context.Context, cl call) (Outcome, []byte) {
	started := time.Now()
	o, body := c.attempt(ctx, cl)
	red := c.redactorFor(cl)
	o.Method = cl.method
	o.Status.Message = red.String(o.Status.Message)
	o.ServerError = red.String(o.ServerError)
	o.BodySample = sampleOf(red, body)
	if o.Status.Code != TooManyRequests {
		o.RetryAfter = 0
	}
	o.Retryable = retryable(o.Status.Code)
	o.Duration = time.Since(started)
	logOutcome(ctx, cl, o)
	return o, body
}

// redactorFor covers every secret a call knows before it is sent.
func (c *Client) redactorFor(cl call, more ...string) redactor {
	return newRedactor(append(append([]string{c.cfg.AccessToken, cl.token}, cl.secrets...), more...)...)
}

// sampleOf is the redacted start of a body, nil for an empty one. It
// redacts before cutting, so a token cannot survive cut in half.
func sampleOf(red redactor, body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	sample := red.Bytes(body)
	return bytes.Clone(sample[:min(len(sample), bodySampleBytes)])
}

// resample redoes an Outcome's body sample when the answer itself carried
// a new secret (a token the server just issued), which do could not know.
func (c *Client) resample(o *Outcome, cl call, body []byte, issued ...string) {
	o.BodySample = sampleOf(c.redactorFor(cl, issued...), body)
}

// attempt sends the request once, under the per-attempt deadline, and
// classifies what came back.
func (c *Client) attempt(ctx context.Context, cl call) (Outcome, []byte) {
	if cl.urlErr != nil {
		return failed(IncorrectRequest, cl.urlErr.Error()+"; not sent"), nil
	}
	if cl.token == "" && !cl.anonymous {
		return failed(Unauthorised, "no access token; not sent"), nil
	}
	attemptCtx, cancel := context.WithTimeoutCause(ctx, cl.opts.timeout, errAttemptDeadline)
	defer cancel() // after the body is read: the deadline covers the body too

	// written counts the requests written; wrote is when the last one was
	// (since begun, keeping the monotonic clock).
	var written, wrote atomic.Int64
	begun := time.Now()
	traced := httptrace.WithClientTrace(attemptCtx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(int64(time.Since(begun)))
				written.Add(1)
			}
		},
	})
	wroteAt := func() time.Time {
		if written.Load() == 0 {
			return time.Time{}
		}
		return begun.Add(time.Duration(wrote.Load()))
	}
	var reqBody io.Reader
	if cl.body != nil {
		reqBody = bytes.NewReader(cl.body) // NewRequest sets GetBody for 307/308
	}
	req, err := http.NewRequestWithContext(traced, cl.method, cl.url.String(), reqBody)
	if err != nil {
		return failed(IncorrectRequest, err.Error()+"; not sent"), nil
	}
	if !cl.anonymous {
		req.Header.Set("Authorization", "Bearer "+cl.token)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		o := transportFailure(ctx, attemptCtx, err, cl.opts.timeout)
		o.Requests, o.WroteAt = int(written.Load()), wroteAt()
		return o, nil
	}
	defer resp.Body.Close()
	// Read one byte more than allowed to detect an oversized body without
	// reading it all.
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	var o Outcome
	switch {
	case readErr != nil:
		o = transportFailure(ctx, attemptCtx, readErr, cl.opts.timeout)
	case int64(len(body)) > c.cfg.MaxBodyBytes:
		o = failed(IncorrectResponse, fmt.Sprintf("HTTP %d with a body over %d bytes", resp.StatusCode, c.cfg.MaxBodyBytes))
		body = body[:c.cfg.MaxBodyBytes]
	default:
		v := classifyAnswer(answer{
			status:      resp.StatusCode,
			contentType: resp.Header.Get("Content-Type"),
			retryAfter:  resp.Header.Get("Retry-After"),
			body:        body,
		}, delayPolicy{now: time.Now(), fallback: cl.opts.retryInterval, ceiling: c.cfg.MaxRetryAfter})
		o = Outcome{
			Status:      Status{Code: v.code, Message: v.message},
			ErrCode:     v.errCode,
			ServerError: v.serverError,
			RetryAfter:  v.retryAfter,
			SoftLogout:  v.softLogout,
		}
	}
	o.HTTPStatus = resp.StatusCode
	o.Requests, o.WroteAt = int(written.Load()), wroteAt()
	return o, body
}

// transportFailure classifies an error without a (complete) answer: the
// caller's cancellation is Abandoned, our deadline is Timeout, the rest is
// NetworkError. The caller's context is checked first because its own
// deadline, if earlier, also ends the attempt context.
func transportFailure(callerCtx, attemptCtx context.Context, err error, timeout time.Duration) Outcome {
	var netErr net.Error
	switch {
	case callerCtx.Err() != nil:
		return failed(Abandoned, fmt.Sprintf("abandoned by the caller (%v): %v", context.Cause(callerCtx), err))
	case errors.Is(context.Cause(attemptCtx), errAttemptDeadline):
		return failed(Timeout, fmt.Sprintf("no complete answer within %v: %v", timeout, err))
	case errors.As(err, &netErr) && netErr.Timeout():
		return failed(Timeout, err.Error())
	}
	return failed(NetworkError, err.Error())
}

// failed is an Outcome with only a status.
func failed(code StatusCode, message string) Outcome {
	return Outcome{Status: Status{Code: code, Message: message}}
}

// logOutcome logs at debug level through the context's logger. The message
// is already redacted and the URL never holds a token.
func logOutcome(ctx context.Context, cl call, o Outcome) {
	logger := zerolog.Ctx(ctx)
	if logger.GetLevel() > zerolog.DebugLevel {
		return
	}
	event := logger.Debug().Str("method", cl.method)
	if cl.url != nil {
		event = event.Str("host", cl.url.Host).Str("path", cl.url.EscapedPath())
	}
	event.Int("http_status", o.HTTPStatus).
		Stringer("status", o.Status.Code).
		Str("errcode", string(o.ErrCode)).
		Str("message", o.Status.Message).
		Int("requests", o.Requests).
		Int64("retry_after_ms", o.RetryAfter.Milliseconds()).
		Float64("duration_ms", float64(o.Duration.Microseconds())/1000).
		Msg("matrix call")
}
