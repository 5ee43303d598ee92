package matrix

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// delayPolicy is what choosing a 429 delay needs besides the answer itself.
type delayPolicy struct {
	now      time.Time     // reference for an HTTP-date Retry-After
	fallback time.Duration // the current retry interval, used without advice
	ceiling  time.Duration // ClientConfig.MaxRetryAfter
}

// rateLimitDelay picks the delay for a TooManyRequests answer: the body's
// retry_after_ms (more precise, and the only advice Dendrite gives), else the
// Retry-After header (libQuotient gap #1: it never reads the header), else
// the current retry interval. Whatever the source, the result is clamped to
// [0, ceiling] so a hostile or buggy server cannot park a worker forever.
func rateLimitDelay(retryAfterMS json.RawMessage, header string, p delayPolicy) time.Duration {
	if d, ok := parseRetryAfterMS(retryAfterMS, p.ceiling); ok {
		return clampDelay(d, p.ceiling)
	}
	if d, ok := parseRetryAfterHeader(header, p.now, p.ceiling); ok {
		return clampDelay(d, p.ceiling)
	}
	return clampDelay(p.fallback, p.ceiling)
}

// parseRetryAfterMS reads retry_after_ms when it is a JSON number; strings,
// null and other values count as absent. Values beyond the ceiling return the
// ceiling before any conversion, so 10^12 ms or 1e400 cannot overflow.
func parseRetryAfterMS(raw json.RawMessage, ceiling time.Duration) (time.Duration, bool) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || !json.Valid(raw) || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false
	}
	ms, err := strconv.ParseFloat(string(raw), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	switch {
	case math.IsNaN(ms) || ms <= 0:
		return 0, true
	case ms >= float64(ceiling)/float64(time.Millisecond):
		return ceiling, true
	}
	return time.Duration(ms * float64(time.Millisecond)), true
}

// parseRetryAfterHeader reads Retry-After as delta-seconds or as an HTTP-date
// (RFC 9110 §10.2.3) relative to now. An unreadable value counts as absent.
func parseRetryAfterHeader(value string, now time.Time, ceiling time.Duration) (time.Duration, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if looksNumeric(value) {
		secs, err := strconv.ParseInt(value, 10, 64)
		switch {
		case errors.Is(err, strconv.ErrRange):
			if value[0] == '-' {
				return 0, true
			}
			return ceiling, true
		case err != nil:
			return 0, false
		case secs <= 0:
			return 0, true
		case secs > int64(ceiling/time.Second):
			return ceiling, true
		}
		return time.Duration(secs) * time.Second, true
	}
	when, err := http.ParseTime(value)
	if err != nil {
		return 0, false
	}
	return when.Sub(now), true // Sub saturates instead of overflowing
}

// looksNumeric reports whether v is an optionally signed run of digits.
func looksNumeric(v string) bool {
	digits := strings.TrimLeft(v, "+-")
	if digits == "" || len(v)-len(digits) > 1 {
		return false
	}
	return strings.Trim(digits, "0123456789") == ""
}

// clampDelay bounds d to [0, ceiling]; a negative ceiling counts as zero.
func clampDelay(d, ceiling time.Duration) time.Duration {
	ceiling = max(ceiling, 0)
	return min(max(d, 0), ceiling)
}
