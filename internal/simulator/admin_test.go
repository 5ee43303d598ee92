package simulator_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func overridePath(userID string) string {
	return "/_synapse/admin/v1/users/" + encodedRoom(userID) + "/override_ratelimit"
}

func TestOverrideRatelimitNeedsAnAdmin(t *testing.T) {
	cfg := testConfig()
	cfg.Users[0].Admin = true
	sim, ts := simtest.NewServer(t, cfg)
	for _, method := range []string{"GET", "POST", "DELETE"} {
		res := call(t, ts, method, overridePath(simulator.DefaultUserID), memberToken, map[string]any{})
		wantStatus(t, res, 403, "M_FORBIDDEN")
		if res.body["error"] != "You are not a server admin" {
			t.Errorf("%s: %s", method, res.raw)
		}
	}
	wantStatus(t, call(t, ts, "GET", overridePath(simulator.DefaultUserID), "", nil), 401, "M_MISSING_TOKEN")
	wantStatus(t, call(t, ts, "GET", overridePath("@nobody:sim.local"), simulator.DefaultAccessToken, nil), 404, "M_NOT_FOUND")
	wantStatus(t, call(t, ts, "GET", overridePath("@someone:elsewhere.org"), simulator.DefaultAccessToken, nil), 400, "M_UNKNOWN")
	for _, bad := range []map[string]any{{"messages_per_second": -1}, {"burst_count": 1.5}, {"messages_per_second": "0"}} {
		wantStatus(t, call(t, ts, "POST", overridePath(memberID), simulator.DefaultAccessToken, bad), 400, "M_INVALID_PARAM")
	}
	// Only the admin's malformed POSTs reached an override; every request
	// is in Requests.
	st := sim.Stats()
	if want := map[string]int64{"POST": 3}; !reflect.DeepEqual(st.OverrideRatelimit, want) {
		t.Errorf("OverrideRatelimit %v, want %v", st.OverrideRatelimit, want)
	}
	if n := st.Requests["admin_override_ratelimit"]; n != 9 {
		t.Errorf("Requests[admin_override_ratelimit] = %d, want 9", n)
	}
}

func TestOverrideRatelimitLiftsTheInviteLimit(t *testing.T) {
	cfg := testConfig()
	cfg.Users[0].Admin = true
	cfg.RateLimit = simulator.RateLimit{Burst: 1, PerSecond: 0.001}
	sim, ts := simtest.NewServer(t, cfg)
	path := overridePath(simulator.DefaultUserID)
	tok := simulator.DefaultAccessToken
	if res := call(t, ts, "GET", path, tok, nil); res.status != 200 || len(res.body) != 0 {
		t.Fatalf("GET without override: %d %s", res.status, res.raw)
	}
	wantStatus(t, invite(t, ts, "l0@example.org"), 200, "")
	wantStatus(t, invite(t, ts, "l1@example.org"), 429, "M_LIMIT_EXCEEDED")

	// A non-zero override does not touch rc_third_party_invite (Synapse
	// only reads its numbers for sending messages).
	res := call(t, ts, "POST", path, tok, map[string]any{"messages_per_second": 10, "burst_count": 20})
	if res.status != 200 || res.body["messages_per_second"] != float64(10) || res.body["burst_count"] != float64(20) {
		t.Fatalf("POST: %d %s", res.status, res.raw)
	}
	wantStatus(t, invite(t, ts, "l1@example.org"), 429, "M_LIMIT_EXCEEDED")

	// 0/0 lifts it.
	res = call(t, ts, "POST", path, tok, map[string]any{"messages_per_second": 0, "burst_count": 0})
	if res.status != 200 || res.body["messages_per_second"] != float64(0) || res.body["burst_count"] != float64(0) {
		t.Fatalf("POST 0/0: %d %s", res.status, res.raw)
	}
	if o, ok := sim.RateLimitOverride(simulator.DefaultUserID); !ok || o != (simulator.RateOverride{}) {
		t.Errorf("RateLimitOverride = %+v %v", o, ok)
	}
	res = call(t, ts, "GET", path, tok, nil)
	if res.status != 200 || res.body["messages_per_second"] != float64(0) || len(res.body) != 2 {
		t.Errorf("GET: %d %s", res.status, res.raw)
	}
	for i := range 5 {
		wantStatus(t, invite(t, ts, fmt.Sprintf("lifted%d@example.org", i)), 200, "")
	}

	// DELETE restores the limit (the bucket is still empty).
	if res := call(t, ts, "DELETE", path, tok, nil); res.status != 200 || len(res.body) != 0 {
		t.Errorf("DELETE: %d %s", res.status, res.raw)
	}
	wantStatus(t, invite(t, ts, "l2@example.org"), 429, "M_LIMIT_EXCEEDED")
	if _, ok := sim.RateLimitOverride(simulator.DefaultUserID); ok {
		t.Error("override still there after DELETE")
	}
	if st := sim.Stats(); !reflect.DeepEqual(st.OverrideRatelimit, map[string]int64{"GET": 2, "POST": 2, "DELETE": 1}) {
		t.Errorf("OverrideRatelimit %v, want GET 2, POST 2, DELETE 1", st.OverrideRatelimit)
	}
	// The Go API does the same.
	sim.SetRateLimitOverride(simulator.DefaultUserID, simulator.RateOverride{})
	wantStatus(t, invite(t, ts, "l2@example.org"), 200, "")
	sim.DeleteRateLimitOverride(simulator.DefaultUserID)
	wantStatus(t, invite(t, ts, "l3@example.org"), 429, "M_LIMIT_EXCEEDED")
}

func TestSynapseDefaultRateLimitScaled(t *testing.T) {
	rl := simulator.SynapseDefaultRateLimit(1000)
	if rl.Burst != 5 || rl.PerSecond != 2.5 || rl.Style != simulator.StyleSynapse || rl.Pause != 500*time.Microsecond {
		t.Fatalf("SynapseDefaultRateLimit(1000) = %+v", rl)
	}
	rl.Pause = 100 * time.Millisecond // long enough to be measured on a loaded machine
	sim, ts := simtest.NewServer(t, simulator.Config{RateLimit: rl})
	for i := range 5 {
		wantStatus(t, invite(t, ts, fmt.Sprintf("b%d@example.org", i)), 200, "")
	}
	start := time.Now()
	res := invite(t, ts, "b5@example.org")
	elapsed := time.Since(start)
	wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
	if ms, _ := res.body["retry_after_ms"].(float64); ms <= 0 || ms > 400 {
		t.Errorf("retry_after_ms %v, want in (0, 400]", res.body["retry_after_ms"])
	}
	if res.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q", res.header.Get("Retry-After"))
	}
	if elapsed < rl.Pause {
		t.Errorf("429 answered after %v, before the %v pause", elapsed, rl.Pause)
	}
	if st := sim.Stats(); st.RateLimited != 1 || st.StoreInvites != 5 {
		t.Errorf("stats %+v", st)
	}
}
