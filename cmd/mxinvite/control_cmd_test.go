package main

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// The campaign-control commands, end to end through the CLI: a scheduled
// import is cancelled, a failure is retried, a recurring campaign is
// added, listed and removed.
func TestCampaignControlCommands(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@flaky.example", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1},
	}})
	room := simulator.DefaultRoomID
	list := e.file("list.txt", "a@example.org\nb@example.org\n")
	if r := mxinvite(t, join([]string{"enqueue", "--room", room, "--campaign", "later", "--file", list, "--in", "1h", "--no-preflight"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("enqueue: %d %s", r.code, r.stderr)
	}
	r := mxinvite(t, join([]string{"cancel", "--campaign", "later"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "2 cancelled") {
		t.Fatalf("cancel: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := e.queueSize(); n != 0 {
		t.Fatalf("%d tasks left in the queue after cancel", n)
	}

	if r := mxinvite(t, join([]string{"invite", "--room", room, "--campaign", "c", "--address", "x@flaky.example"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("invite: %d %s", r.code, r.stderr)
	}
	worker := join([]string{"worker", "--until-idle", "--retry-waits", "50ms"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, worker...); r.code != 0 {
		t.Fatalf("worker: %d %s", r.code, r.stderr)
	}
	if r := mxinvite(t, join([]string{"retry", "--campaign", "c", "--status", "104"}, e.redisArgs())...); r.code != 0 || !strings.Contains(r.stdout, "1 invites that ended ContentAccessError re-enqueued") {
		t.Fatalf("retry: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := mxinvite(t, worker...); r.code != 0 {
		t.Fatalf("worker: %d %s", r.code, r.stderr)
	}
	if r := mxinvite(t, join([]string{"status", "--campaign", "c"}, e.redisArgs())...); !strings.Contains(r.stdout, "Success (0)                  1") {
		t.Fatalf("status after retry:\n%s", r.stdout)
	}
	for _, bad := range [][]string{{"retry", "--campaign", "c", "--status", "Nonsense"}, {"retry", "--campaign", "c", "--status", "Success"}} {
		if r := mxinvite(t, join(bad, e.redisArgs())...); r.code != exitUsage || !strings.Contains(r.stderr, "--status") {
			t.Fatalf("%v: exit %d, stderr %q; want 2 naming --status", bad, r.code, r.stderr)
		}
	}

	add := join([]string{"schedule", "add", "--campaign", "weekly", "--cron", "0 9 * * 1", "--room", room, "--file", list}, e.redisArgs())
	if r := mxinvite(t, add...); r.code != 0 || !strings.Contains(r.stdout, "next tick") {
		t.Fatalf("schedule add: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := mxinvite(t, join([]string{"schedule", "list"}, e.redisArgs())...); !strings.Contains(r.stdout, "\nweekly    0 9 * * 1  ") {
		t.Fatalf("schedule list: %q", r.stdout)
	}
	if r := mxinvite(t, join([]string{"schedule", "add", "--campaign", "w", "--cron", "someday", "--room", room, "--file", list}, e.redisArgs())...); r.code != exitUsage || !strings.Contains(r.stderr, "--cron") {
		t.Fatalf("bad cron: %d %q", r.code, r.stderr)
	}
	if r := mxinvite(t, join([]string{"schedule", "remove", "--campaign", "weekly"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("schedule remove: %d %s", r.code, r.stderr)
	}
	if r := mxinvite(t, join([]string{"schedule", "list"}, e.redisArgs())...); strings.Contains(r.stdout, "weekly") {
		t.Fatalf("schedule list after remove: %q", r.stdout)
	}
}

// retry and cancel act on one invite named by --address (any spelling):
// cancelling one scheduled invite leaves its neighbour's task queued;
// retrying one failure re-enqueues only it.
func TestOneInviteCommands(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@flaky.example", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1},
	}})
	room := simulator.DefaultRoomID
	for _, a := range []string{"x@flaky.example", "y@flaky.example"} {
		if r := mxinvite(t, join([]string{"invite", "--room", room, "--campaign", "c", "--address", a}, e.redisArgs())...); r.code != 0 {
			t.Fatalf("invite: %d %s", r.code, r.stderr)
		}
	}
	// (Before the scheduled campaign: a worker --until-idle waits for
	// scheduled tasks too.)
	worker := join([]string{"worker", "--until-idle", "--retry-waits", "50ms"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, worker...); r.code != 0 {
		t.Fatalf("worker: %d %s", r.code, r.stderr)
	}
	list := e.file("list.txt", "a@example.org\nb@example.org\n")
	if r := mxinvite(t, join([]string{"enqueue", "--room", room, "--campaign", "later", "--file", list, "--in", "1h", "--no-preflight"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("enqueue: %d %s", r.code, r.stderr)
	}
	r := mxinvite(t, join([]string{"cancel", "--address", "A@Example.ORG"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "invite a@example.org (campaign later): cancelled (was scheduled); its task is removed from the queue") {
		t.Fatalf("cancel --address: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := e.queueSize(); n != 1 {
		t.Fatalf("%d tasks in the queue after cancelling one of two, want 1", n)
	}
	if r := mxinvite(t, join([]string{"cancel", "--address", "nobody@example.org"}, e.redisArgs())...); r.code != exitUsage || !strings.Contains(r.stderr, "no invite of it") {
		t.Fatalf("unknown address: %d %q", r.code, r.stderr)
	}
	if r := mxinvite(t, join([]string{"retry", "--address", "X@FLAKY.example", "--campaign", "c"}, e.redisArgs())...); r.code != 0 || !strings.Contains(r.stdout, "invite x@flaky.example (campaign c, ended ContentAccessError): re-enqueued") {
		t.Fatalf("retry --address: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := e.queueSize(); n != 2 {
		t.Fatalf("%d tasks in the queue after retrying one, want 2 (b@ and x@)", n)
	}
	if r := mxinvite(t, join([]string{"retry", "--address", "x@flaky.example", "--status", "104"}, e.redisArgs())...); r.code != exitUsage || !strings.Contains(r.stderr, "--status") {
		t.Fatalf("retry --address --status: %d %q", r.code, r.stderr)
	}
	// A campaign cancel says what becomes of the queued invites' tasks it
	// leaves in asynq's pending list (x@ was re-enqueued above).
	r = mxinvite(t, join([]string{"cancel", "--campaign", "c"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "1 cancelled") ||
		!strings.Contains(r.stdout, "1 of their tasks stay in asynq's pending list (removing each would scan it): a worker takes each, finds it cancelled and ends it at once, sending nothing") {
		t.Fatalf("cancel: %d %q %q", r.code, r.stdout, r.stderr)
	}
}
