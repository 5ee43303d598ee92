package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestRateLimitDelays(t *testing.T) {
	const interval = 4 * time.Second
	tests := []struct {
		name       string
		body       string // "" = no body, no JSON type
		retryAfter string
		ceiling    time.Duration // 0 = default
		delay      time.Duration
	}{
		{"bare 429 from a proxy", "", "", 0, interval},
		{"header seconds", "", "30", 0, 30 * time.Second},
		{"header zero", "", "0", 0, 0},
		{"header negative", "", "-5", 0, 0},
		{"header huge", "", "99999999999999999999999", 0, DefaultMaxRetryAfter},
		{"header garbage", "", "soon", 0, interval},
		{"body ms", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}`, "", 0, 1500 * time.Millisecond},
		{"body ms preferred over header", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1500}`, "30", 0, 1500 * time.Millisecond},
		{"body without ms falls to header", `{"errcode":"M_LIMIT_EXCEEDED"}`, "30", 0, 30 * time.Second},
		{"body ms as string ignored", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":"1500"}`, "", 0, interval},
		{"body ms null ignored", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":null}`, "7", 0, 7 * time.Second},
		{"absurd ms clamps", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1000000000000}`, "", 0, DefaultMaxRetryAfter},
		{"absurd ms clamps to custom ceiling", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1000000000000}`, "", 10 * time.Minute, 10 * time.Minute},
		{"1e400 ms clamps", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1e400}`, "", 0, DefaultMaxRetryAfter},
		{"negative ms clamps", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":-5000}`, "30", 0, 0},
		{"fractional ms", `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":0.5}`, "", 0, 500 * time.Microsecond},
		{"header over custom ceiling", "", "7200", 10 * time.Minute, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				if tt.body == "" {
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				reply(http.StatusTooManyRequests, tt.body)(w, nil)
			})
			c := newTestClient(srv.URL, func(cfg *ClientConfig) { cfg.MaxRetryAfter = tt.ceiling })
			o := invite(context.Background(), c, WithRetryInterval(interval))
			checkOutcome(t, o, TooManyRequests, true, tt.delay)
			if o.Ambiguous() {
				t.Error("a 429 is not ambiguous: the server refused")
			}
		})
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(120*time.Second).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	})
	o := invite(context.Background(), newTestClient(srv.URL))
	if o.Status.Code != TooManyRequests || o.RetryAfter < 118*time.Second || o.RetryAfter > 120*time.Second {
		t.Errorf("got %v after %v, want TooManyRequests after ~120s", o.Status.Code, o.RetryAfter)
	}
}

func TestParseRetryAfterHeader(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	ceiling := time.Hour
	tests := []struct {
		value string
		delay time.Duration
		ok    bool
	}{
		{"", 0, false},
		{"  12 ", 12 * time.Second, true},
		{"+3", 3 * time.Second, true},
		{"--3", 0, false},
		{"1.5", 0, false},
		{"-99999999999999999999", 0, true},
		{"3601", ceiling, true},
		{"3600", ceiling, true},
		{"Thu, 02 Jan 2025 03:05:05 GMT", time.Minute, true},
		{"Thu, 02 Jan 2025 03:00:00 GMT", -245 * time.Second, true}, // past: clamped later
		{"Thursday, 02-Jan-25 03:05:05 GMT", time.Minute, true},     // RFC 850
		{"Thu Jan  2 03:05:05 2025", time.Minute, true},             // asctime
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		delay, ok := parseRetryAfterHeader(tt.value, now, ceiling)
		if delay != tt.delay || ok != tt.ok {
			t.Errorf("parseRetryAfterHeader(%q) = %v, %v; want %v, %v", tt.value, delay, ok, tt.delay, tt.ok)
		}
	}
}

func TestRateLimitDelayPastDateClampsToZero(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	got := rateLimitDelay(nil, "Thu, 01 Jan 2025 00:00:00 GMT", delayPolicy{now: now, fallback: time.Second, ceiling: time.Hour})
	if got != 0 {
		t.Errorf("delay = %v, want 0", got)
	}
	got = rateLimitDelay(json.RawMessage(`250`), "", delayPolicy{now: now, fallback: time.Second, ceiling: 100 * time.Millisecond})
	if got != 100*time.Millisecond {
		t.Errorf("delay = %v, want the 100ms ceiling", got)
	}
}
