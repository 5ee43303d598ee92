package main

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// TestEnvironmentVariablesSetFlags: the variables the issue found doing
// nothing — MXINVITE_CAMPAIGN, _ROOM, _FILE, _FORMAT — set their flags for
// enqueue, status and results; MXINVITE_ENQUEUE_CONCURRENCY is enqueue's
// and MXINVITE_CONCURRENCY is not.
func TestEnvironmentVariablesSetFlags(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	t.Setenv("MXINVITE_CAMPAIGN", "from-env")
	t.Setenv("MXINVITE_ROOM", simulator.DefaultRoomID)
	t.Setenv("MXINVITE_FILE", e.file("list.txt", addressList(3, "env.example")))
	t.Setenv("MXINVITE_FORMAT", "csv")
	t.Setenv("MXINVITE_CONCURRENCY", "0") // the worker's: enqueue must not read it
	t.Setenv("MXINVITE_ENQUEUE_CONCURRENCY", "2")

	r := mxinvite(t, join([]string{"enqueue", "--no-preflight"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "campaign from-env") || !strings.Contains(r.stdout, "enqueued 3,") {
		t.Fatalf("enqueue from the environment: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := mxinvite(t, join([]string{"status"}, e.redisArgs())...); r.code != 0 || !strings.HasPrefix(r.stdout, "campaign from-env: 3 enqueued") {
		t.Fatalf("status from the environment: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = mxinvite(t, join([]string{"results"}, e.redisArgs())...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "task_id,") || strings.Count(r.stdout, "\n") != 4 {
		t.Fatalf("results with MXINVITE_FORMAT=csv: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	t.Setenv("MXINVITE_ENQUEUE_CONCURRENCY", "0")
	oneLine(t, "MXINVITE_ENQUEUE_CONCURRENCY=0 enqueue", mxinvite(t, join([]string{"enqueue", "--no-preflight"}, e.redisArgs())...),
		"MXINVITE_ENQUEUE_CONCURRENCY")
}
