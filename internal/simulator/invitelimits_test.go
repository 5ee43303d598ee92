package simulator_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// slow is a limit of burst b that refills too slowly to matter in a test.
func slow(b int) simulator.RateLimit { return simulator.RateLimit{PerSecond: 0.001, Burst: b} }

// limitsConfig is testConfig with a second room the inviter may invite
// into, a second inviter, and the given rc_invites.
func limitsConfig(il simulator.InviteLimits) simulator.Config {
	cfg := testConfig()
	cfg.InviteLimits = il
	cfg.Users = append(cfg.Users, simulator.User{AccessToken: "second-token", UserID: "@second:sim.local"})
	cfg.Rooms[0].Members["@second:sim.local"] = "join"
	cfg.Rooms[0].PowerLevels["@second:sim.local"] = 100
	cfg.Rooms = append(cfg.Rooms, simulator.Room{ID: "!other:sim.local", Members: map[string]string{
		simulator.DefaultUserID: "join", "@second:sim.local": "join"}})
	return cfg
}

func TestInviteLimitScopes(t *testing.T) {
	tok, room, other := simulator.DefaultAccessToken, simulator.DefaultRoomID, "!other:sim.local"
	cases := []struct {
		name   string
		limits simulator.InviteLimits
		first  func(*testing.T, *simTS) // uses the scope's one token
		hit    func(*testing.T, *simTS) result
		pass   func(*testing.T, *simTS) result // another key of the scope
		scope  string
	}{
		{"per_room keyed by the room", simulator.InviteLimits{PerRoom: slow(1)},
			func(t *testing.T, s *simTS) { s.user(t, tok, room, "@a:sim.local") },
			func(t *testing.T, s *simTS) result { return s.user(t, "second-token", room, "@b:sim.local") },
			func(t *testing.T, s *simTS) result { return s.user(t, tok, other, "@b:sim.local") },
			simulator.ScopePerRoom},
		{"per_user keyed by the invitee", simulator.InviteLimits{PerUser: slow(1)},
			func(t *testing.T, s *simTS) { s.user(t, tok, room, "@pop:sim.local") },
			func(t *testing.T, s *simTS) result { return s.user(t, "second-token", other, "@pop:sim.local") },
			func(t *testing.T, s *simTS) result { return s.user(t, tok, other, "@b:sim.local") },
			simulator.ScopePerUser},
		{"per_issuer keyed by the sender", simulator.InviteLimits{PerIssuer: slow(1)},
			func(t *testing.T, s *simTS) { s.user(t, tok, room, "@a:sim.local") },
			func(t *testing.T, s *simTS) result { return s.user(t, tok, other, "@b:sim.local") },
			func(t *testing.T, s *simTS) result { return s.user(t, "second-token", other, "@b:sim.local") },
			simulator.ScopePerIssuer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sim, ts := simtest.NewServer(t, limitsConfig(c.limits))
			s := &simTS{ts}
			c.first(t, s)
			res := c.hit(t, s)
			wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
			if ms, _ := res.body["retry_after_ms"].(float64); ms <= 0 || res.header.Get("Retry-After") == "" {
				t.Errorf("429 without Synapse's advice: %s %v", res.raw, res.header)
			}
			wantStatus(t, c.pass(t, s), 200, "")
			st := sim.Stats()
			if st.RateLimitedByScope[c.scope] != 1 || st.RateLimited != 1 || st.MatrixIDInvites != 2 {
				t.Errorf("stats %+v, want one 429 of scope %s", st, c.scope)
			}
		})
	}
}

// simTS wraps a test server for the table above.
type simTS struct{ ts *httptest.Server }

func (s *simTS) user(t *testing.T, token, roomID, userID string) result {
	t.Helper()
	return inviteUser(t, s.ts, token, roomID, userID)
}

func TestInviteLimitsChargeInOrder(t *testing.T) {
	// A request limited per invitee has already used a per-room token,
	// as Synapse's ratelimit_invite takes them one after the other.
	sim, ts := simtest.NewServer(t, limitsConfig(simulator.InviteLimits{PerRoom: slow(2), PerUser: slow(1)}))
	tok, room := simulator.DefaultAccessToken, simulator.DefaultRoomID
	wantStatus(t, inviteUser(t, ts, tok, room, "@pop:sim.local"), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, "!other:sim.local", "@pop:sim.local"), 429, "M_LIMIT_EXCEEDED")
	wantStatus(t, inviteUser(t, ts, tok, "!other:sim.local", "@pop:sim.local"), 429, "M_LIMIT_EXCEEDED")
	wantStatus(t, inviteUser(t, ts, tok, room, "@b:sim.local"), 200, "") // the second room token
	wantStatus(t, inviteUser(t, ts, tok, room, "@c:sim.local"), 429, "M_LIMIT_EXCEEDED")
	st := sim.Stats()
	if st.RateLimitedByScope[simulator.ScopePerUser] != 2 || st.RateLimitedByScope[simulator.ScopePerRoom] != 1 {
		t.Errorf("429s by scope %v", st.RateLimitedByScope)
	}
	// The second request for @pop came back inside its advice.
	if st.EarlyByScope[simulator.ScopePerUser] != 1 || st.EarlyByScope[simulator.ScopePerRoom] != 0 {
		t.Errorf("early by scope %v, want 1 per_user", st.EarlyByScope)
	}
	var sum int64
	for _, n := range st.RateLimitedByScope {
		sum += n
	}
	if sum != st.RateLimited {
		t.Errorf("RateLimitedByScope adds up to %d, RateLimited is %d", sum, st.RateLimited)
	}
}

func TestInviteLimitsExemptAndOverride(t *testing.T) {
	cfg := limitsConfig(simulator.InviteLimits{PerIssuer: slow(1)})
	cfg.Users[0].RateLimitExempt = true
	sim, ts := simtest.NewServer(t, cfg)
	for _, u := range []string{"@a:sim.local", "@b:sim.local", "@c:sim.local"} {
		wantStatus(t, inviteUser(t, ts, simulator.DefaultAccessToken, simulator.DefaultRoomID, u), 200, "")
	}
	sim.SetRateLimitOverride("@second:sim.local", simulator.RateOverride{})
	for _, u := range []string{"@d:sim.local", "@e:sim.local"} {
		wantStatus(t, inviteUser(t, ts, "second-token", simulator.DefaultRoomID, u), 200, "")
	}
}

func TestInviteLimitsEarlyAndPause(t *testing.T) {
	rl := simulator.RateLimit{PerSecond: 20, Burst: 1, Pause: 30 * time.Millisecond}
	sim, ts := simtest.NewServer(t, limitsConfig(simulator.InviteLimits{PerIssuer: rl}))
	tok, room := simulator.DefaultAccessToken, simulator.DefaultRoomID
	wantStatus(t, inviteUser(t, ts, tok, room, "@a:sim.local"), 200, "")
	start := time.Now()
	res := inviteUser(t, ts, tok, room, "@b:sim.local")
	wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
	if took := time.Since(start); took < rl.Pause {
		t.Errorf("429 after %v, want Synapse's pause of %v first", took, rl.Pause)
	}
	// Waiting the advice after the answer is not early.
	time.Sleep(time.Duration(res.body["retry_after_ms"].(float64)) * time.Millisecond)
	wantStatus(t, inviteUser(t, ts, tok, room, "@b:sim.local"), 200, "")
	if st := sim.Stats(); st.EarlyByScope[simulator.ScopePerIssuer] != 0 {
		t.Errorf("early %v after honouring the advice", st.EarlyByScope)
	}
}

func TestSynapseDefaultInviteLimits(t *testing.T) {
	il := simulator.SynapseDefaultInviteLimits(1000)
	want := []struct {
		got        simulator.RateLimit
		rate       float64
		burst      int
		name, what string
	}{
		{il.PerRoom, 300, 10, "PerRoom", "0.3/s x1000"},
		{il.PerUser, 3, 5, "PerUser", "0.003/s x1000"},
		{il.PerIssuer, 300, 10, "PerIssuer", "0.3/s x1000"},
	}
	for _, w := range want {
		if d := w.got.PerSecond - w.rate; d > 1e-9 || d < -1e-9 || w.got.Burst != w.burst ||
			w.got.Style != simulator.StyleSynapse || w.got.Pause != 500*time.Microsecond {
			t.Errorf("%s = %+v, want %s burst %d, pause 500µs", w.name, w.got, w.what, w.burst)
		}
	}
	if off := simulator.SynapseDefaultInviteLimits(0); off != (simulator.InviteLimits{}) {
		t.Errorf("scale 0 = %+v, want off", off)
	}
	if err := (simulator.Config{InviteLimits: simulator.InviteLimits{PerUser: simulator.RateLimit{Burst: 1}}}).Validate(); err == nil {
		t.Error("Validate accepted a burst without a rate")
	}
}

func TestInviteLimitsControl(t *testing.T) {
	sim, ts := simtest.NewServer(t, limitsConfig(simulator.InviteLimits{}))
	wantStatus(t, call(t, ts, "POST", "/_sim/invite_limits", "", map[string]any{
		"per_user": map[string]any{"per_second": 0.001, "burst": 1, "pause": "1ms"}}), 200, "")
	tok, room := simulator.DefaultAccessToken, simulator.DefaultRoomID
	wantStatus(t, inviteUser(t, ts, tok, room, "@pop:sim.local"), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, "!other:sim.local", "@pop:sim.local"), 429, "M_LIMIT_EXCEEDED")
	wantStatus(t, call(t, ts, "POST", "/_sim/invite_limits", "", map[string]any{"scale": 0}), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, "!other:sim.local", "@pop:sim.local"), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/invite_limits", "", map[string]any{"per_room": map[string]any{"burst": 1}}), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "POST", "/_sim/invite_limits", "", map[string]any{"per_room": map[string]any{"pause": "soon"}}), 400, "M_INVALID_PARAM")
	if st := sim.Stats(); st.MatrixIDInvites != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestResetRefillsInviteLimitsAndForgetsAdvice(t *testing.T) {
	cfg := limitsConfig(simulator.InviteLimits{PerUser: slow(1)})
	cfg.Rules = []simulator.Rule{{Pattern: "@ruled:*", Status: 429, RetryAfterMS: 60000, Times: 1}}
	sim, ts := simtest.NewServer(t, cfg)
	tok, room := simulator.DefaultAccessToken, simulator.DefaultRoomID
	wantStatus(t, inviteUser(t, ts, tok, room, "@pop:sim.local"), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, "!other:sim.local", "@pop:sim.local"), 429, "M_LIMIT_EXCEEDED")
	wantStatus(t, inviteUser(t, ts, tok, room, "@ruled:sim.local"), 429, "M_UNKNOWN")
	sim.Reset()
	wantStatus(t, inviteUser(t, ts, tok, "!other:sim.local", "@pop:sim.local"), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, room, "@ruled:sim.local"), 429, "M_UNKNOWN") // Times start again
	if st := sim.Stats(); len(st.EarlyByScope) != 0 || st.RateLimited != 1 {
		t.Errorf("stats %+v, want no early request after Reset", st)
	}
	if m := membership(t, sim, "@pop:sim.local"); m != "invite" {
		t.Errorf("membership %q: Reset keeps memberships", m)
	}
}
