package demo

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

// The demo, small: every imported invite ends final, the banned domain's
// invites end ContentAccessError, the rest Success, nothing is invited twice,
// and the report says so.
func TestDemoEmbeddedRedis(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	sum, out := runDemo(t, "", dir)
	check(t, sum, out)
	checkKept(t, dir, sum, out)
}

// The same against a real Redis (make demo --redis URL): afterwards, none
// of the demo's keys or its asynq queue are left.
func TestDemoRealRedis(t *testing.T) {
	r := redistest.Start(t)
	rdb := r.Client(t)
	sum, out := runDemo(t, r.URL(), t.TempDir())
	check(t, sum, out)
	if !strings.Contains(out, "Redis "+r.URL()) || !strings.Contains(out, "removed the demo's keys (mxdemo-") {
		t.Fatalf("the report does not say which Redis it used and cleaned:\n%s", out)
	}
	ctx := context.Background()
	for _, pattern := range []string{"mxdemo-*", "asynq:{mxdemo-*"} {
		if keys, err := rdb.Keys(ctx, pattern).Result(); err != nil || len(keys) != 0 {
			t.Errorf("keys %s left behind (%v): %d, e.g. %v", pattern, err, len(keys), keys[:min(len(keys), 5)])
		}
	}
	queues, err := rdb.SMembers(ctx, "asynq:queues").Result()
	if err != nil || slices.ContainsFunc(queues, func(q string) bool { return strings.HasPrefix(q, "mxdemo-") }) {
		t.Errorf("asynq queues after the demo (%v): %v", err, queues)
	}
}

func runDemo(t *testing.T, redisURL, dir string) (Summary, string) {
	t.Helper()
	var out bytes.Buffer
	sum, err := Run(context.Background(), Options{RedisURL: redisURL, Dir: dir, Invites: 300, Rate: 200, Out: &out, Timeout: time.Minute})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	return sum, out.String()
}

// checkKept: the list, its rejects and the report stay in the directory the
// output names.
func checkKept(t *testing.T, dir string, s Summary, out string) {
	t.Helper()
	if !strings.Contains(out, "kept in "+dir+": members.csv (the list), members.rejects.csv") {
		t.Errorf("the output does not say where the files are:\n%s", out)
	}
	rejects, err := os.ReadFile(filepath.Join(dir, "members.rejects.csv"))
	if err != nil || int64(strings.Count(string(rejects), "\n")) != s.Import.Rejected+1 {
		t.Errorf("rejects file (%v): %d lines for %d rejects", err, strings.Count(string(rejects), "\n"), s.Import.Rejected)
	}
	report, err := os.ReadFile(filepath.Join(dir, "report.txt"))
	if err != nil || !strings.Contains(string(report), "final report") || !strings.Contains(out, string(report)) {
		t.Errorf("report.txt (%v) is not the report printed:\n%s", err, report)
	}
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
	already := c.Deliveries[record.DeliveryAlreadyJoined] + c.Deliveries[record.DeliveryAlreadyInvited]
	if s.Sim.Duplicates != 0 || int(s.Sim.Accepted+s.Sim.MatrixIDInvites)+already != c.Statuses["Success"] {
		t.Fatalf("simulator: %d accepted, %d by Matrix ID, %d duplicates; %d Success (%d needed none)", s.Sim.Accepted, s.Sim.MatrixIDInvites,
			s.Sim.Duplicates, c.Statuses["Success"], already)
	}
	// The funnel: bound members invited by Matrix ID, joined ones needing
	// no invite, later binds registered, joins tracked.
	f := c.Funnel
	if s.Sim.MatrixIDInvites == 0 || c.Deliveries[record.DeliveryAlreadyJoined] == 0 || f.Registered == 0 || f.Joined <= c.Deliveries[record.DeliveryAlreadyJoined] ||
		f.Sent != int(s.Sim.Accepted+s.Sim.MatrixIDInvites) {
		t.Fatalf("funnel %+v, deliveries %v, %d by Matrix ID", f, c.Deliveries, s.Sim.MatrixIDInvites)
	}
	for _, want := range []string{"preflight", "✓ membership", "members.csv: ", "final report", "Success (0)", "answered 429", "funnel: sent", "mxinvite track:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}
