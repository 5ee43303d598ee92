package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/redistest"
)

// The demo, small: every imported invite ends final, the banned domain's
// invites end ContentAccessError, the rest Success, nothing is invited twice,
// and the report says so.
func TestDemoEmbeddedRedis(t *testing.T) {
	sum, out := runDemo(t, "")
	check(t, sum, out)
}

// The same against a real Redis (make demo --redis URL).
func TestDemoRealRedis(t *testing.T) {
	r := redistest.Start(t)
	sum, out := runDemo(t, r.URL())
	check(t, sum, out)
	if !strings.Contains(out, "Redis "+r.URL()) {
		t.Fatalf("the report does not say which Redis it used:\n%s", out)
	}
}

func runDemo(t *testing.T, redisURL string) (Summary, string) {
	t.Helper()
	var out bytes.Buffer
	sum, err := Run(context.Background(), Options{RedisURL: redisURL, Invites: 300, Rate: 200, Out: &out, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	return sum, out.String()
}

func check(t *testing.T, s Summary, out string) {
	t.Helper()
	if s.Import.Rejected == 0 || s.Import.Duplicates == 0 || s.Import.Enqueued == 0 {
		t.Fatalf("the generated list should have rejects and duplicates: %+v", s.Import)
	}
	c := s.Counts
	if int64(c.Enqueued) != s.Import.Enqueued || c.Pending() != 0 {
		t.Fatalf("counts %+v after importing %d", c, s.Import.Enqueued)
	}
	banned := c.Statuses["ContentAccessError"]
	if banned == 0 || c.Statuses["Success"]+banned != c.Enqueued {
		t.Fatalf("statuses %+v; want Success and ContentAccessError (banned domain) only", c.Statuses)
	}
	if s.Sim.Duplicates != 0 || int(s.Sim.Accepted) != c.Statuses["Success"] {
		t.Fatalf("simulator: %d accepted, %d duplicates; %d Success", s.Sim.Accepted, s.Sim.Duplicates, c.Statuses["Success"])
	}
	for _, want := range []string{"preflight", "✓ membership", "imported members.csv", "final report", "Success (0)", "answered 429"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}
