package worker

import (
	"github.com/mxinvite/mxinvite/internal/observe"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	observe.Nop
	mu                                     sync.Mutex
	attempts, requests, limited, ambiguous int
	gateWaits                              int
	finished                               map[string]matrix.StatusCode // campaign/sender/status by address is not told: by count
	finishedBy                             map[matrix.StatusCode]int
	campaigns                              map[string]int
	senders                                map[string]int
	minLatency                             time.Duration
}

func (r *recorder) Attempt(sender string, o matrix.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	r.requests += o.Requests
	r.limited += b2i(o.Status.Code == matrix.TooManyRequests)
	r.ambiguous += b2i(o.Ambiguous())
	r.senders[sender]++
}

func (r *recorder) GateWait(string, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gateWaits++
}

func (r *recorder) InviteFinished(_, campaign string, status matrix.StatusCode, latency time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finishedBy[status]++
	r.campaigns[campaign]++
	if r.minLatency == 0 || latency < r.minLatency {
		r.minLatency = latency
	}
}

// TestObserverSeesWhatTheServerSaw runs invites through refusals, an
// ambiguous 502, and rate limits, and checks the observer's counts
// against the records and the simulator's own counts.
func TestObserverSeesWhatTheServerSaw(t *testing.T) {
	rec := &recorder{finishedBy: map[matrix.StatusCode]int{}, campaigns: map[string]int{}, senders: map[string]int{}}
	e, sim := newSimEnv(t, simulator.Config{
		Rules: []simulator.Rule{
			{Pattern: "flaky@*", Status: 502, Times: 1},
			{Pattern: "nope@*", Status: 403, ErrCode: "M_FORBIDDEN"},
		},
		RateLimit: simulator.RateLimit{PerSecond: 2, Burst: 2, EarlySlack: time.Second},
	}, func(c *Config) { c.Observer = rec })
	addrs := []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org", "flaky@example.org", "nope@example.org"}
	invs := make([]tasks.Invite, len(addrs))
	for i, a := range addrs {
		invs[i] = e.inviteTo(simulator.DefaultRoomID, a)
		e.enqueue(invs[i], producer.Options{})
	}
	e.runUntilIdle(time.Minute)

	var attempts, requests, limited int
	for _, inv := range invs {
		r := e.result(inv)
		if !r.Final() {
			t.Fatalf("%s not final: %+v", inv.Address, r)
		}
		attempts += r.Attempts
		requests += r.Requests
		limited += r.RateLimited
	}
	st := sim.Stats()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.finishedBy[matrix.Success] != 5 || rec.finishedBy[matrix.ContentAccessError] != 1 || len(rec.finishedBy) != 2 {
		t.Errorf("finished by status %v, want 5 Success and 1 ContentAccessError", rec.finishedBy)
	}
	if rec.campaigns["spring"] != len(addrs) || len(rec.campaigns) != 1 {
		t.Errorf("finished by campaign %v", rec.campaigns)
	}
	if rec.attempts != attempts || rec.senders[tasks.DefaultSender] != attempts {
		t.Errorf("%d attempts observed (by sender %v), the records say %d", rec.attempts, rec.senders, attempts)
	}
	if rec.requests != requests || int64(rec.requests) != st.InviteRequests {
		t.Errorf("%d requests observed, the records say %d, the simulator saw %d", rec.requests, requests, st.InviteRequests)
	}
	if st.RateLimited == 0 {
		t.Error("no 429: the rate limit did not bite")
	}
	if rec.limited != limited || int64(rec.limited) != st.RateLimited {
		t.Errorf("%d 429s observed, the records say %d, the simulator sent %d", rec.limited, limited, st.RateLimited)
	}
	if rec.ambiguous != 1 {
		t.Errorf("%d ambiguous answers observed, want 1 (the 502)", rec.ambiguous)
	}
	if rec.gateWaits != rec.attempts {
		t.Errorf("%d gate waits observed for %d attempts", rec.gateWaits, rec.attempts)
	}
	if rec.minLatency <= 0 {
		t.Errorf("a latency of %v", rec.minLatency)
	}
}
