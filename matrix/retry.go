package matrix

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidRetryPolicy is wrapped by RetryPolicy.Validate's errors.
var ErrInvalidRetryPolicy = errors.New("matrix: invalid retry policy")

// RetryPolicy is libQuotient's retry schedule as a value, so that the worker
// (which owns the retries) and the CLI share one definition.
type RetryPolicy struct {
	// Timeouts is the per-attempt timeout indexed by retries taken; the last
	// entry repeats. Default 30s, 60s, 150s.
	Timeouts []time.Duration
	// Waits is the wait before the next attempt indexed by retries taken; the
	// last entry repeats. Default 2s, 5s, 30s.
	Waits []time.Duration
	// MaxRetries bounds the retries (attempts = MaxRetries+1). Default 3
	// for a zero RetryPolicy; once any field is set, 0 means no retries, so
	// a caller can ask for exactly one attempt.
	MaxRetries int
}

// defaultTimeouts and defaultWaits are functions, not variables, so that no
// caller can modify the defaults through a shared slice.
func defaultTimeouts() []time.Duration {
	return []time.Duration{30 * time.Second, 60 * time.Second, 150 * time.Second}
}

func defaultWaits() []time.Duration {
	return []time.Duration{2 * time.Second, 5 * time.Second, 30 * time.Second}
}

// DefaultRetryPolicy returns libQuotient's schedule: timeouts 30s, 60s, 150s;
// waits 2s, 5s, 30s; at most 3 retries.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Timeouts: defaultTimeouts(), Waits: defaultWaits(), MaxRetries: 3}
}

// WithDefaults returns a copy with empty slices set to the defaults, and
// MaxRetries too when p is the zero policy. The slices are copied, so the
// result shares nothing with p.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	def := DefaultRetryPolicy()
	zero := len(p.Timeouts) == 0 && len(p.Waits) == 0 && p.MaxRetries == 0
	p.Timeouts, p.Waits = slices.Clone(p.Timeouts), slices.Clone(p.Waits)
	if len(p.Timeouts) == 0 {
		p.Timeouts = def.Timeouts
	}
	if len(p.Waits) == 0 {
		p.Waits = def.Waits
	}
	if zero {
		p.MaxRetries = def.MaxRetries
	}
	return p
}

// Validate names the first bad field: a non-positive timeout, a negative
// wait or a negative MaxRetries. Empty slices are valid (defaults apply).
func (p RetryPolicy) Validate() error {
	for i, d := range p.Timeouts {
		if d <= 0 {
			return fmt.Errorf("%w: Timeouts[%d] is %v, must be positive", ErrInvalidRetryPolicy, i, d)
		}
	}
	for i, d := range p.Waits {
		if d < 0 {
			return fmt.Errorf("%w: Waits[%d] is %v, must not be negative", ErrInvalidRetryPolicy, i, d)
		}
	}
	if p.MaxRetries < 0 {
		return fmt.Errorf("%w: MaxRetries is %d, must not be negative", ErrInvalidRetryPolicy, p.MaxRetries)
	}
	return nil
}

// Timeout is the per-attempt timeout after retriesTaken retries.
func (p RetryPolicy) Timeout(retriesTaken int) time.Duration {
	return scheduleEntry(p.Timeouts, defaultTimeouts(), retriesTaken)
}

// Wait is the wait before the next attempt after retriesTaken retries.
func (p RetryPolicy) Wait(retriesTaken int) time.Duration {
	return scheduleEntry(p.Waits, defaultWaits(), retriesTaken)
}

// Next decides, after an attempt that ended in o with retriesTaken retries
// already taken, whether to try again and after how long:
//   - TooManyRequests: always, after o.RetryAfter, without counting against
//     MaxRetries (the caller bounds the total time spent waiting on 429s);
//   - Timeout: while retriesTaken < MaxRetries, at once (libQuotient does not
//     wait after a timeout, the attempt already took long);
//   - NetworkError, IncorrectResponse: while retriesTaken < MaxRetries,
//     after Wait(retriesTaken);
//   - anything else, including Success and Abandoned: no.
func (p RetryPolicy) Next(o Outcome, retriesTaken int) (retry bool, wait time.Duration) {
	switch o.Status.Code {
	case TooManyRequests:
		return true, o.RetryAfter
	case Timeout:
		return retriesTaken < p.MaxRetries, 0
	case NetworkError, IncorrectResponse:
		if retriesTaken < p.MaxRetries {
			return true, p.Wait(retriesTaken)
		}
	}
	return false, 0
}

// scheduleEntry indexes list by retries taken, repeating the last entry.
func scheduleEntry(list, fallback []time.Duration, retriesTaken int) time.Duration {
	if len(list) == 0 {
		list = fallback
	}
	return list[min(max(retriesTaken, 0), len(list)-1)]
}

// FormatDurations writes a list as ParseDurations reads it, in whole
// seconds or milliseconds where they fit ("2s,5s,30s", "30s,60s,150s").
func FormatDurations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		switch {
		case d%time.Second == 0:
			parts[i] = strconv.FormatInt(int64(d/time.Second), 10) + "s"
		case d%time.Millisecond == 0:
			parts[i] = strconv.FormatInt(int64(d/time.Millisecond), 10) + "ms"
		default:
			parts[i] = d.String()
		}
	}
	return strings.Join(parts, ",")
}

// ParseDurations reads a comma-separated list such as "2s,5s,30s" (for the
// CLI). Spaces around entries are ignored; empty or negative entries are
// errors.
func ParseDurations(s string) ([]time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("matrix: empty duration list")
	}
	parts := strings.Split(s, ",")
	durations := make([]time.Duration, 0, len(parts))
	for i, part := range parts {
		part = strings.TrimSpace(part)
		d, err := time.ParseDuration(part)
		if err != nil {
			return nil, fmt.Errorf("matrix: duration list %q, entry %d: %w", s, i+1, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("matrix: duration list %q, entry %d: %v is negative", s, i+1, d)
		}
		durations = append(durations, d)
	}
	return durations, nil
}
