package simulator_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// burst sends n invites to distinct addresses and returns the answers.
func burst(t *testing.T, tsInvite func(string) result, n int) []result {
	t.Helper()
	out := make([]result, n)
	for i := range out {
		out[i] = tsInvite(fmt.Sprintf("rl%d@example.org", i))
	}
	return out
}

func TestRateLimitSynapseStyle(t *testing.T) {
	cfg := testConfig()
	cfg.RateLimit = simulator.RateLimit{PerSecond: 2, Burst: 2}
	cfg.Users[1].RateLimitExempt = true // the member (who may not invite) is exempt
	sim, ts := simtest.NewServer(t, cfg)
	res := burst(t, func(a string) result { return invite(t, ts, a) }, 3)
	wantStatus(t, res[0], 200, "")
	wantStatus(t, res[1], 200, "")
	wantStatus(t, res[2], 429, "M_LIMIT_EXCEEDED")
	ms, ok := res[2].body["retry_after_ms"].(float64)
	if !ok || ms <= 0 || ms > 500 {
		t.Errorf("retry_after_ms = %v, want in (0, 500]", res[2].body["retry_after_ms"])
	}
	if got := res[2].header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After = %q, want \"1\" (seconds, rounded up)", got)
	}
	st := sim.Stats()
	if st.RateLimited != 1 || st.Accepted != 2 || st.StoreInvites != 2 || st.InviteStatuses[429] != 1 {
		t.Errorf("stats %+v, want 2 accepted and one 429 that reached no identity server", st)
	}
	// An exempt sender is never limited (it then fails on power level).
	for i := 0; i < 4; i++ {
		wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), memberToken, inviteReq(ts, "x@example.org")), 403, "M_FORBIDDEN")
	}
}

func TestRateLimitDendriteStyle(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{
		RateLimit: simulator.RateLimit{PerSecond: 1, Burst: 1, Style: simulator.StyleDendrite},
	})
	res := burst(t, func(a string) result { return invite(t, ts, a) }, 2)
	wantStatus(t, res[1], 429, "M_LIMIT_EXCEEDED")
	if _, ok := res[1].body["retry_after_ms"].(float64); !ok {
		t.Errorf("no retry_after_ms in %s", res[1].raw)
	}
	if got := res[1].header.Get("Retry-After"); got != "" {
		t.Errorf("Retry-After = %q, want none", got)
	}
}

func TestRateLimitBareStyle(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{
		RateLimit: simulator.RateLimit{PerSecond: 1, Burst: 1, Style: simulator.StyleBare},
	})
	res := burst(t, func(a string) result { return invite(t, ts, a) }, 2)
	if res[1].status != 429 || res[1].body != nil || res[1].header.Get("Retry-After") != "" {
		t.Fatalf("got %d %q Retry-After %q, want a bare 429", res[1].status, res[1].raw, res[1].header.Get("Retry-After"))
	}
	if ct := res[1].header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
}

func TestRateLimitRefills(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 20, Burst: 1}})
	wantStatus(t, invite(t, ts, "a@example.org"), 200, "")
	res := invite(t, ts, "b@example.org")
	wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
	time.Sleep(time.Duration(res.body["retry_after_ms"].(float64)) * time.Millisecond)
	wantStatus(t, invite(t, ts, "b@example.org"), 200, "")
}

func TestEarlyRequestsCounted(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 2, Burst: 1}})
	invite(t, ts, "a@example.org")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	// A client that ignores the advice comes straight back.
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	invite(t, ts, "b@example.org")
	if st := sim.Stats(); st.EarlyRequests != 2 || st.RateLimited != 3 {
		t.Errorf("stats %+v, want 2 early requests and 3 429s", st)
	}
}

func TestEarlyRequestsZeroWhenAdviceHonoured(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 10, Burst: 1}})
	invite(t, ts, "a@example.org")
	for i := 0; i < 3; i++ {
		res := invite(t, ts, fmt.Sprintf("b%d@example.org", i))
		if res.status == 429 {
			time.Sleep(time.Duration(res.body["retry_after_ms"].(float64)) * time.Millisecond)
			res = invite(t, ts, fmt.Sprintf("b%d@example.org", i))
		}
		wantStatus(t, res, 200, "")
	}
	if st := sim.Stats(); st.EarlyRequests != 0 || st.RateLimited == 0 {
		t.Errorf("stats %+v, want 429s but no early request", st)
	}
}

func TestSetRateLimitAtRuntime(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	wantStatus(t, invite(t, ts, "a@example.org"), 200, "")
	if err := sim.SetRateLimit(simulator.RateLimit{Burst: 1}); err == nil {
		t.Error("SetRateLimit accepted Burst without PerSecond")
	}
	if err := sim.SetRateLimit(simulator.RateLimit{PerSecond: 0.01, Burst: 1}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "b@example.org"), 200, "")
	wantStatus(t, invite(t, ts, "c@example.org"), 429, "M_LIMIT_EXCEEDED")
	if err := sim.SetRateLimit(simulator.RateLimit{}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "c@example.org"), 200, "")
}

func TestRateLimitConcurrent(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 0.001, Burst: 5}})
	var wg sync.WaitGroup
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := send(ts, 5*time.Second, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, inviteReq(ts, fmt.Sprintf("c%d@example.org", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st := sim.Stats(); st.Accepted != 5 || st.RateLimited != 25 || st.StoreInvites != 5 {
		t.Errorf("stats %+v, want exactly the burst of 5 through", st)
	}
}

func TestEarlySlackExcusesCrossingRequests(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 1, Burst: 1, EarlySlack: time.Minute}})
	invite(t, ts, "a@example.org")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	if st := sim.Stats(); st.EarlyRequests != 0 || st.CrossedRequests != 1 {
		t.Errorf("stats %+v, want the retry inside the slack excused and counted as crossed", st)
	}
}

// Without a slack, the same retry is early and nothing is counted as
// crossing the 429.
func TestStrictCountsARetryInsideTheAdviceEarly(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{RateLimit: simulator.RateLimit{PerSecond: 1, Burst: 1}})
	invite(t, ts, "a@example.org")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_LIMIT_EXCEEDED")
	if st := sim.Stats(); st.EarlyRequests != 1 || st.CrossedRequests != 0 {
		t.Errorf("stats %+v, want the retry early, none crossed", st)
	}
}
