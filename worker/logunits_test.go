package worker

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/testkit"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/matrix"
)

type lockedBuffer = testkit.Buffer

// durationField names log fields that hold a duration; each must carry its
// unit in its name (_ms) or be a string with one ("1.5s").
var durationField = regexp.MustCompile(`(wait|after|duration|timeout|interval|latency|delay|elapsed|pace)`)

// TestLoggedDurationsCarryTheirUnit: a retried invite, logged at debug
// level, logs its wait as wait_ms and the matrix calls' durations and
// retry-after as *_ms; no duration field is a bare number.
func TestLoggedDurationsCarryTheirUnit(t *testing.T) {
	hs := newFakeHS(t, answer{status: 429, body: `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":50}`},
		answer{status: 502, body: `bad gateway`})
	var logs lockedBuffer
	logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
	e := newEnv(t, hs.URL, func(c *Config) { c.Logger = &logger })
	inv := e.invite("units@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.wantResult(inv, matrix.Success, 3)

	var sawWait, sawRetryAfter, sawDuration bool
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		for name, v := range fields {
			if !durationField.MatchString(name) {
				continue
			}
			_, isString := v.(string)
			if !strings.HasSuffix(name, "_ms") && !isString {
				t.Errorf("log field %q = %v has no unit: %s", name, v, line)
			}
		}
		if fields["message"] == "attempt failed; retrying" && fields["wait_ms"] == float64(100) {
			sawWait = true // the policy's first wait, 100ms
		}
		if fields["message"] == "matrix call" {
			if fields["retry_after_ms"] == float64(50) {
				sawRetryAfter = true
			}
			if d, ok := fields["duration_ms"].(float64); ok && d > 0 {
				sawDuration = true
			}
		}
	}
	if !sawWait || !sawRetryAfter || !sawDuration {
		t.Errorf("wait_ms 100 logged %v, retry_after_ms 50 %v, duration_ms %v; want all\n%s",
			sawWait, sawRetryAfter, sawDuration, logs.String())
	}
}
