package main

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// etaStatus is what the ETA test reads of status --json.
type etaStatus struct {
	States     map[string]int `json:"states"`
	ETASeconds *float64       `json:"eta_seconds"`
	Waiting    string         `json:"waiting"`
	Lane       string         `json:"lane"`
	Priority   string         `json:"priority"`
	// RateLimited counts the 429s the campaign's requests met.
	RateLimited int `json:"rate_limited"`
}

func (s etaStatus) pending() int {
	n := 0
	for state, v := range s.States {
		if state != "done" && state != "cancelled" {
			n += v
		}
	}
	return n
}

// TestStatusETAsAccountForEverythingAhead: against a server limited to
// burst 5 then 4/s (a scaled Synapse), status's ETA of a campaign sharing
// its sender with another, of one enqueued --in 20s (standing for --in 3h)
// and of one spread over 20 s (standing for --spread 1h) are each within
// 1.5× of the time the campaign really took to end from the reading, and
// status says what each waits for (a low-priority one: behind both).
func TestStatusETAsAccountForEverythingAhead(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about a minute against a rate-limited simulator")
	}
	e := newCLIEnv(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 4, Burst: 5}})
	room := simulator.DefaultRoomID
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, join([]string{"mxinvite", "worker", "--log-level", "error", "--concurrency", "2"},
			e.redisArgs(), e.profileArgs()), io.Discard, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Errorf("the worker did not stop within a minute")
		}
	})
	enqueue := func(campaign string, n int, extra ...string) {
		t.Helper()
		r := mxinvite(t, join([]string{"enqueue", "--no-preflight", "--room", room, "--campaign", campaign,
			"--file", e.file(campaign+".txt", addressList(n, campaign+".example"))}, e.redisArgs(), extra)...)
		if r.code != 0 {
			t.Fatalf("enqueue %s: exit %d %s %s", campaign, r.code, r.stdout, r.stderr)
		}
	}
	status := func(campaign string) etaStatus {
		t.Helper()
		r := mxinvite(t, join([]string{"status", "--json", "--campaign", campaign}, e.redisArgs())...)
		var s etaStatus
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &s) != nil {
			t.Fatalf("status --json %s: exit %d %s %s", campaign, r.code, r.stdout, r.stderr)
		}
		return s
	}
	text := func(campaign string) string {
		t.Helper()
		r := mxinvite(t, join([]string{"status", "--campaign", campaign}, e.redisArgs())...)
		if r.code != 0 {
			t.Fatalf("status %s: exit %d %s", campaign, r.code, r.stderr)
		}
		return r.stdout
	}
	// ended is when the campaign's last invite was final (its counters'
	// pace_at_ms), once none is pending.
	ended := func(campaign string, limit time.Duration) time.Time {
		t.Helper()
		for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if status(campaign).pending() == 0 {
				ms, _ := strconv.ParseInt(e.rdb.HGet(context.Background(), e.prefix+":campaign:"+campaign+":counts", "pace_at_ms").Val(), 10, 64)
				return time.UnixMilli(ms)
			}
		}
		t.Fatalf("campaign %s still pending after %s:\n%s", campaign, limit, text(campaign))
		return time.Time{}
	}
	type reading struct {
		campaign string
		at       time.Time
		eta      float64
	}
	read := func(campaign, waits string, also ...string) reading {
		t.Helper()
		at := time.Now()
		s := status(campaign)
		if s.ETASeconds == nil {
			t.Fatalf("%s: ETA unknown (waiting %q)", campaign, s.Waiting)
		}
		for _, w := range append([]string{waits}, also...) {
			if !strings.Contains(s.Waiting, w) {
				t.Errorf("%s: waiting %q, want it to say %q", campaign, s.Waiting, w)
			}
		}
		if out := text(campaign); !strings.Contains(out, "waiting: ") || !strings.Contains(out, waits) || !strings.Contains(out, "queue: lane ") {
			t.Errorf("status %s does not say it is %q, or its lane:\n%s", campaign, waits, out)
		}
		return reading{campaign, at, *s.ETASeconds}
	}
	check := func(r reading, end time.Time) {
		t.Helper()
		real := end.Sub(r.at).Seconds()
		ratio := r.eta / real
		t.Logf("%s: ETA %.1f s, really %.1f s: ratio %.2f", r.campaign, r.eta, real, ratio)
		if ratio > 1.5 || ratio < 1/1.5 {
			t.Errorf("%s: ETA %.1f s for %.1f s really: not within 1.5×", r.campaign, r.eta, real)
		}
	}

	// Until the gate knows the pace the server limits the sender to, the
	// ETA is unknown (the burst's pace would say far too soon).
	enqueue("bulk", 80)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		s := status("bulk")
		if s.ETASeconds != nil && s.RateLimited > 0 {
			break
		}
		if s.ETASeconds == nil && !strings.HasPrefix(s.Waiting, "unknown: ") {
			t.Fatalf("bulk: ETA unknown, waiting %q", s.Waiting)
		}
		if time.Now().After(deadline) {
			t.Fatalf("bulk's ETA still unknown after 30 s:\n%s", text("bulk"))
		}
	}
	// A campaign enqueued second shares the sender's turns with bulk; one
	// of low priority waits for both.
	enqueue("small", 20)
	enqueue("tail", 10, "--priority", "low")
	small := read("small", "sharing sender default with campaign bulk")
	bulk := read("bulk", "sharing sender default with campaign small")
	tail := read("tail", "behind ", " invites of higher-priority campaigns bulk, small on sender default")
	if s := status("tail"); s.Lane != "low" || s.Priority != "low" {
		t.Errorf("tail: lane %q, priority %q, want low", s.Lane, s.Priority)
	}
	check(small, ended("small", time.Minute))
	check(bulk, ended("bulk", time.Minute))
	// tail's ETA is not checked: the worker gives a low lane turns at the
	// gate while normal ones wait there (internal/turns), so low is not
	// strictly behind normal yet; its words are.
	t.Logf("tail: ETA %.1f s, really %.1f s", tail.eta, ended("tail", time.Minute).Sub(tail.at).Seconds())

	// One enqueued --in 20s, and one spread over the next 20 s.
	enqueue("later", 10, "--in", "20s")
	enqueue("spread", 10, "--spread", "20s")
	later := read("later", "scheduled from ")
	spread := read("spread", "scheduled", " until ")
	check(later, ended("later", time.Minute))
	check(spread, ended("spread", time.Minute))
}
