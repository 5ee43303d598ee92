package simulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestRuleAdviceForms(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "both@*", Status: 429, ErrCode: "M_LIMIT_EXCEEDED", RetryAfterMS: 1500, RetryAfter: "2", Times: 1},
		{Pattern: "header@*", Status: 429, RetryAfter: "1", Times: 1},
		{Pattern: "odd@*", Status: 429, RetryAfter: "soon", Times: 1},
	}})
	res := invite(t, ts, "both@example.org")
	wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
	if res.body["retry_after_ms"] != float64(1500) || res.header.Get("Retry-After") != "2" {
		t.Errorf("advice %s Retry-After %q, want 1500 ms and \"2\"", res.raw, res.header.Get("Retry-After"))
	}
	res = invite(t, ts, "header@example.org")
	if _, ok := res.body["retry_after_ms"]; ok || res.header.Get("Retry-After") != "1" || res.errcode() != "M_UNKNOWN" {
		t.Errorf("header-only 429: %s %v", res.raw, res.header)
	}
	if res := invite(t, ts, "odd@example.org"); res.header.Get("Retry-After") != "soon" {
		t.Errorf("Retry-After %q, want the odd value as is", res.header.Get("Retry-After"))
	}
	// Back at once: early for the two that advised; the odd header advises nothing.
	for _, a := range []string{"both@example.org", "header@example.org", "odd@example.org", "fresh@example.org"} {
		wantStatus(t, invite(t, ts, a), 200, "")
	}
	st := sim.Stats()
	if st.EarlyByScope[simulator.ScopeRule] != 2 || st.EarlyByAddress["both@example.org"] != 1 ||
		st.EarlyByAddress["header@example.org"] != 1 || len(st.EarlyByAddress) != 2 || st.EarlyRequests != 0 {
		t.Errorf("early %v by address %v, want both@ and header@ early once", st.EarlyByScope, st.EarlyByAddress)
	}
	if st.RateLimitedByScope[simulator.ScopeRule] != 3 || st.RateLimited != 3 || st.ScriptedAnswers != 3 {
		t.Errorf("stats %+v, want 3 scripted 429s", st)
	}
}

func TestRuleAdviceHonoured(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*", Status: 429, RetryAfterMS: 40, Delay: 20 * time.Millisecond, Times: 1},
	}})
	wantStatus(t, invite(t, ts, "a@example.org"), 429, "M_UNKNOWN")
	time.Sleep(45 * time.Millisecond) // counted from when the answer left, after its Delay
	wantStatus(t, invite(t, ts, "a@example.org"), 200, "")
	wantStatus(t, invite(t, ts, "b@example.org"), 429, "M_UNKNOWN")
	wantStatus(t, invite(t, ts, "c@example.org"), 429, "M_UNKNOWN") // another address is not early
	if st := sim.Stats(); st.EarlyByScope[simulator.ScopeRule] != 0 {
		t.Errorf("early %v, want none", st.EarlyByAddress)
	}
}

func TestRuleSequencePerAddress(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "seq@*", Status: 429, ErrCode: "M_LIMIT_EXCEEDED", RetryAfterMS: 1, Times: 1},
		{Pattern: "seq@*", Status: 502, Body: "<html><body>Bad gateway</body></html>", ContentType: "text/html", Times: 1},
		{Pattern: "seq@*", Status: 200, Body: "not json", Times: 1},
		{Pattern: "seq@*", Status: 200, EmptyBody: true, Times: 1},
	}})
	wantStatus(t, invite(t, ts, "seq@example.org"), 429, "M_LIMIT_EXCEEDED")
	time.Sleep(2 * time.Millisecond)
	res := invite(t, ts, "seq@example.org")
	if res.status != 502 || !strings.HasPrefix(string(res.raw), "<html>") || res.header.Get("Content-Type") != "text/html" {
		t.Errorf("second answer %d %q %q, want the HTML 502", res.status, res.raw, res.header.Get("Content-Type"))
	}
	res = invite(t, ts, "seq@example.org")
	if res.status != 200 || string(res.raw) != "not json" || res.header.Get("Content-Type") != "" {
		t.Errorf("third answer %d %q %q, want a bare non-JSON 200", res.status, res.raw, res.header.Get("Content-Type"))
	}
	res = invite(t, ts, "seq@example.org")
	if res.status != 200 || len(res.raw) != 0 || res.header.Get("Content-Type") != "" {
		t.Errorf("fourth answer %d %q %v, want an empty 200", res.status, res.raw, res.header)
	}
	wantStatus(t, invite(t, ts, "seq@example.org"), 200, "") // the real answer
	st := sim.Stats()
	if st.NonJSON != 2 || st.ServerErrors != 1 || st.ScriptedAnswers != 4 || st.Accepted != 1 {
		t.Errorf("stats %+v, want 2 non-JSON 200s, 1 5xx, 4 scripted answers, 1 invite", st)
	}
}

func TestRuleHangAndDelay(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "hang@*", Hang: true, Times: 1},
		{Pattern: "stored@*", Hang: true, AfterStore: true, Times: 1},
		{Pattern: "slow@*", Status: 200, Delay: 60 * time.Millisecond},
	}})
	path := invitePath(simulator.DefaultRoomID)
	if _, err := send(ts, 100*time.Millisecond, "POST", path, simulator.DefaultAccessToken, inviteReq(ts, "hang@example.org")); err == nil {
		t.Error("a hanging rule was answered")
	}
	if _, err := send(ts, 100*time.Millisecond, "POST", path, simulator.DefaultAccessToken, inviteReq(ts, "stored@example.org")); err == nil {
		t.Error("a hanging rule was answered")
	}
	start := time.Now()
	wantStatus(t, invite(t, ts, "slow@example.org"), 200, "")
	if took := time.Since(start); took < 60*time.Millisecond {
		t.Errorf("answered after %v, want the 60ms delay first", took)
	}
	wantStatus(t, invite(t, ts, "hang@example.org"), 200, "") // Times 1: then the real answer
	st := sim.Stats()
	// The delayed 200 is scripted before the identity server: nothing stored.
	if st.Timeouts != 2 || st.Accepted != 2 || st.Emails["stored@example.org"] != 1 || st.Emails["hang@example.org"] != 1 {
		t.Errorf("stats %+v, want 2 timeouts, the AfterStore one stored and emailed", st)
	}
}

func TestRuleMatchesUserIDOfInviteByMatrixID(t *testing.T) {
	cfg := testConfig()
	cfg.InviteLimits = simulator.InviteLimits{PerIssuer: slow(1)}
	cfg.Rules = []simulator.Rule{{Pattern: "@busy:*", Status: 429, ErrCode: "M_LIMIT_EXCEEDED", RetryAfterMS: 60000}}
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, "@busy:sim.local"), 429, "M_LIMIT_EXCEEDED")
	// rc_invites comes first: the issuer's one token was used.
	wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, "@busy:sim.local"), 429, "M_LIMIT_EXCEEDED")
	st := sim.Stats()
	if st.RateLimitedByScope[simulator.ScopeRule] != 1 || st.RateLimitedByScope[simulator.ScopePerIssuer] != 1 ||
		st.EarlyByAddress["@busy:sim.local"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRulesControl(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	res := call(t, ts, "POST", "/_sim/rules", "", map[string]any{"rules": []map[string]any{
		{"pattern": "*@ctl.example", "status": 429, "errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 250, "delay": "1ms", "times": 1},
	}})
	wantStatus(t, res, 200, "")
	res = invite(t, ts, "a@ctl.example")
	wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
	if res.body["retry_after_ms"] != float64(250) {
		t.Errorf("body %s", res.raw)
	}
	wantStatus(t, invite(t, ts, "a@ctl.example"), 200, "")
	for _, bad := range []map[string]any{
		{"pattern": "[", "status": 500},
		{"pattern": "*", "status": 429, "delay": "soon"},
		{"pattern": "*", "status": 200, "body": "x", "empty_body": true},
		{"pattern": "*", "status": 429, "body": "x", "retry_after_ms": 5},
	} {
		wantStatus(t, call(t, ts, "POST", "/_sim/rules", "", map[string]any{"rules": []any{bad}}), 400, "M_INVALID_PARAM")
	}
	// An empty list removes the rules.
	wantStatus(t, call(t, ts, "POST", "/_sim/rules", "", map[string]any{"rules": []any{}}), 200, "")
	if err := sim.SetRules([]simulator.Rule{{Pattern: "*", Status: http.StatusOK, Delay: -time.Second}}); err == nil {
		t.Error("SetRules accepted a negative Delay")
	}
}
