package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// statusCounts runs status --json and checks the identity README states:
// every invite of the campaign is in exactly one state, so enqueued =
// queued + scheduled + active + retrying + paused + done + cancelled, and
// the final statuses add up to done. It also checks the text form's first
// line.
func statusCounts(t *testing.T, e *cliEnv, campaign, after string) record.CampaignCounts {
	t.Helper()
	r := mxinvite(t, join([]string{"status", "--campaign", campaign, "--json"}, e.redisArgs())...)
	if r.code != 0 {
		t.Fatalf("after %s: status --json: exit %d %s", after, r.code, r.stderr)
	}
	var c record.CampaignCounts
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("after %s: status --json: %v\n%s", after, err, r.stdout)
	}
	st := c.States
	sum := st["queued"] + st["scheduled"] + st["active"] + st["recovering"] + st["retrying"] + st["paused"] + st["done"] + st["cancelled"]
	if sum != c.Enqueued || c.InStates() != c.Enqueued {
		t.Errorf("after %s: %d enqueued but the states %v add up to %d", after, c.Enqueued, st, sum)
	}
	statuses := 0
	for _, n := range c.Statuses {
		statuses += n
	}
	if statuses != st["done"] {
		t.Errorf("after %s: %d done but the statuses %v add up to %d", after, st["done"], c.Statuses, statuses)
	}
	text := mxinvite(t, join([]string{"status", "--campaign", campaign}, e.redisArgs())...)
	want := fmt.Sprintf("campaign %s: %d enqueued, %d pending, %d done, %d cancelled\n",
		campaign, c.Enqueued, c.Pending(), st["done"], st["cancelled"])
	if !strings.HasPrefix(text.stdout, want) || strings.Contains(text.stdout, "warning") {
		t.Errorf("after %s: status prints\n%s\nwant it to begin %q", after, text.stdout, want)
	}
	return c
}

// TestStatusCountsAddUp: after a plain enqueue and work, retry --status,
// enqueue --again and a cancel of a partly done campaign, status puts every
// invite of the campaign in exactly one bucket, and "enqueued" is the
// number of invites, not of registrations ever made.
func TestStatusCountsAddUp(t *testing.T) {
	const ok, flaky = 40, 20
	// Two 503s per flaky address: with one retry they end NetworkError (101).
	e := newCLIEnv(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@flaky.example", Status: 503, Times: 2},
	}})
	room := simulator.DefaultRoomID
	list := e.file("list.txt", addressList(ok, "ok.example")+addressList(flaky, "flaky.example"))
	enqueue := func(campaign, file string, extra ...string) {
		t.Helper()
		r := mxinvite(t, join([]string{"enqueue", "--no-preflight", "--room", room, "--campaign", campaign,
			"--file", file}, e.redisArgs(), extra)...)
		if r.code != 0 {
			t.Fatalf("enqueue %s %v: exit %d %s %s", campaign, extra, r.code, r.stdout, r.stderr)
		}
	}
	work := func() {
		t.Helper()
		// The flaky addresses come last, failing one after the other: to a
		// sender's gate that is a sick server, which it would back off from
		// (sparing their retries). This test is about counting, so it turns
		// the back-off off and keeps each address on its own schedule.
		args := join([]string{"worker", "--until-idle", "--log-level", "error", "--concurrency", "4",
			"--retry-waits", "10ms", "--max-retries", "1", "--backoff-threshold", "1000"}, e.redisArgs(), e.profileArgs())
		if r := mxinvite(t, args...); r.code != 0 {
			t.Fatalf("worker: exit %d %s", r.code, r.stderr)
		}
	}
	want := func(c record.CampaignCounts, after string, enqueued int, states map[string]int) {
		t.Helper()
		for _, s := range []string{"queued", "scheduled", "active", "retrying", "paused", "done", "cancelled"} {
			if c.States[record.State(s)] != states[s] {
				t.Errorf("after %s: %d %s, want %d (counts %+v)", after, c.States[record.State(s)], s, states[s], c)
			}
		}
		if c.Enqueued != enqueued {
			t.Errorf("after %s: %d enqueued, want %d", after, c.Enqueued, enqueued)
		}
	}

	enqueue("spring", list)
	c := statusCounts(t, e, "spring", "enqueue")
	want(c, "enqueue", ok+flaky, map[string]int{"queued": ok + flaky})
	work()
	c = statusCounts(t, e, "spring", "the first run")
	want(c, "the first run", ok+flaky, map[string]int{"done": ok + flaky})
	if c.Statuses["Success"] != ok || c.Statuses["NetworkError"] != flaky {
		t.Fatalf("after the first run: statuses %v, want %d Success and %d NetworkError", c.Statuses, ok, flaky)
	}

	r := mxinvite(t, join([]string{"retry", "--campaign", "spring", "--status", "101"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("%d invites that ended NetworkError re-enqueued", flaky)) {
		t.Fatalf("retry: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	c = statusCounts(t, e, "spring", "retry --status 101")
	want(c, "retry --status 101", ok+flaky, map[string]int{"queued": flaky, "done": ok})
	work()
	c = statusCounts(t, e, "spring", "the retried run")
	want(c, "the retried run", ok+flaky, map[string]int{"done": ok + flaky})
	if c.Statuses["Success"] != ok+flaky {
		t.Fatalf("after the retried run: statuses %v", c.Statuses)
	}

	enqueue("spring", list, "--again")
	c = statusCounts(t, e, "spring", "enqueue --again")
	want(c, "enqueue --again", ok+flaky, map[string]int{"queued": ok + flaky})
	work()
	c = statusCounts(t, e, "spring", "the --again run")
	want(c, "the --again run", ok+flaky, map[string]int{"done": ok + flaky})

	// A partly done campaign: 10 sent, then 25 scheduled for later, cancelled.
	enqueue("autumn", e.file("now.txt", addressList(10, "now.example")))
	work()
	later := e.file("later.txt", addressList(25, "later.example"))
	enqueue("autumn", later, "--in", "1h")
	r = mxinvite(t, join([]string{"cancel", "--campaign", "autumn"}, e.redisArgs())...)
	if r.code != 0 || !strings.Contains(r.stdout, "25 cancelled, 0 being sent now (not recalled), 10 finished (kept)") {
		t.Fatalf("cancel: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	c = statusCounts(t, e, "autumn", "cancel")
	want(c, "cancel", 35, map[string]int{"done": 10, "cancelled": 25})
	// The cancelled invites can be enqueued again, without --again.
	enqueue("autumn", later)
	c = statusCounts(t, e, "autumn", "enqueueing the cancelled invites again")
	want(c, "enqueueing the cancelled invites again", 35, map[string]int{"done": 10, "queued": 25})
	work()
	c = statusCounts(t, e, "autumn", "their run")
	want(c, "their run", 35, map[string]int{"done": 35})
	// --again re-invited spring's invites on purpose: the simulator counts
	// those (and only those) as duplicates of the first acceptances.
	if st := e.sim.Stats(); st.Duplicates != ok+flaky || st.Accepted != 2*(ok+flaky)+35 {
		t.Errorf("simulator: %d accepted, %d duplicates; want %d, %d", st.Accepted, st.Duplicates, 2*(ok+flaky)+35, ok+flaky)
	}
}
