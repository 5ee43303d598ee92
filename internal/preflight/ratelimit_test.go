package preflight

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
)

// adminConfig is a preflight config for the simulator's default user,
// a server admin who may read rate limits if admin is true.
func adminConfig(t *testing.T, admin bool, addresses int, calls *int) Config {
	t.Helper()
	user := simulator.DefaultUser()
	user.Admin = admin
	_, ts := simtest.NewServer(t, simulator.Config{Users: []simulator.User{user}})
	client := matrix.NewClient(matrix.ClientConfig{HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken, IdentityScheme: "http"})
	return Config{Client: client, Room: simulator.DefaultRoomID, IDServer: simtest.IDServer(ts),
		IDAccessToken: simulator.DefaultIDAccessToken, Sender: "bulk",
		Addresses: func() int { *calls++; return addresses }}
}

func TestRateLimitNoteAtSynapseDefault(t *testing.T) {
	calls := 0
	r := run(t, adminConfig(t, true, 10000, &calls))
	c := check(t, r, CheckRateLimit)
	// (10000-5) × 400 s = 3,998,000 s = 46 days 6 h 33 min 20 s.
	for _, want := range []string{"ℹ rate limit: @inviter:sim.local has no rate-limit override", "burst 5, then one per 400 s",
		"this campaign's 10000 addresses would take about 46 days 6 h", "mxinvite ratelimit lift --sender bulk lifts it"} {
		if !strings.Contains(c.String(), want) {
			t.Errorf("line %q lacks %q", c, want)
		}
	}
	if !r.OK() || !c.OK || !c.Info || calls != 1 {
		t.Errorf("OK %v, check %+v, Addresses called %d times", r.OK(), c, calls)
	}
}

func TestRateLimitNoteWithOverrides(t *testing.T) {
	calls := 0
	cfg := adminConfig(t, true, 1000, &calls)
	ctx := context.Background()
	if o := cfg.Client.SetOverrideRatelimit(ctx, simulator.DefaultUserID, matrix.RatelimitOverride{MessagesPerSecond: 2, BurstCount: 10}); !o.Status.Good() {
		t.Fatal(o.Status)
	}
	// (1000-10) × 0.5 s = 495 s.
	if c := check(t, run(t, cfg), CheckRateLimit); !strings.Contains(c.Detail, "burst 10, then 2 per second: this campaign's 1000 addresses would take about 8 min 15 s") {
		t.Errorf("line %q", c)
	}
	if o := cfg.Client.SetOverrideRatelimit(ctx, simulator.DefaultUserID, matrix.RatelimitOverride{}); !o.Status.Good() {
		t.Fatal(o.Status)
	}
	if c := check(t, run(t, cfg), CheckRateLimit); c.Detail != "@inviter:sim.local is not rate-limited (admin override: messages_per_second 0)" {
		t.Errorf("line %q", c)
	}
}

func TestRateLimitUnknownCampaignSize(t *testing.T) {
	calls := 0
	cfg := adminConfig(t, true, -1, &calls)
	if c := check(t, run(t, cfg), CheckRateLimit); !strings.Contains(c.Detail, "about 216 invites a day") {
		t.Errorf("line %q", c)
	}
	cfg.Addresses = nil
	if c := check(t, run(t, cfg), CheckRateLimit); !strings.Contains(c.Detail, "about 216 invites a day") {
		t.Errorf("without Addresses: %q", c)
	}
}

func TestRateLimitNotAdminSaysNothing(t *testing.T) {
	calls := 0
	r := run(t, adminConfig(t, false, 10000, &calls))
	for _, c := range r.Checks {
		if c.Name == CheckRateLimit {
			t.Errorf("a non-admin got %s", c)
		}
	}
	if !r.OK() || len(r.Checks) != 5 || calls != 0 {
		t.Errorf("OK %v, %d checks, Addresses called %d times", r.OK(), len(r.Checks), calls)
	}
}

func TestCampaignLength(t *testing.T) {
	const every = 400 * time.Second
	for _, tt := range []struct {
		n    int
		want string
	}{
		{0, ": about 216 invites a day"},
		{5, ": this campaign's 5 addresses go out at once"},
		{6, ": this campaign's 6 addresses would take about 6 min 40 s"},
		{14, ": this campaign's 14 addresses would take about 1 h"},
		{221, ": this campaign's 221 addresses would take about 1 day"},
		{-1, ": about 216 invites a day"},
	} {
		if got := campaignLength(tt.n, 5, every); got != tt.want {
			t.Errorf("campaignLength(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0 s", 40 * time.Second: "40 s", 6*time.Minute + 40*time.Second + 300*time.Millisecond: "6 min 40 s",
		time.Hour: "1 h", 3*time.Hour + 20*time.Minute + 5*time.Second: "3 h 20 min", 24 * time.Hour: "1 day",
		49 * time.Hour: "2 days 1 h", 3998000 * time.Second: "46 days 6 h", 7 * time.Minute: "7 min",
	} {
		if got := HumanDuration(d); got != want {
			t.Errorf("HumanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestKnownPaceNote(t *testing.T) {
	calls := 0
	cfg := adminConfig(t, false, 10, &calls) // not an admin: no override note
	cfg.SenderPace = func() time.Duration { return 400 * time.Second }
	c := check(t, run(t, cfg), CheckPace)
	// 10 × 400 s = 4,000 s.
	want := "an earlier campaign of sender bulk was rate-limited by the homeserver to one invite per 6 min 40 s: this campaign's 10 addresses would take about 1 h 6 min"
	if !c.OK || c.Detail != want {
		t.Fatalf("pace note %+v; want %q", c, want)
	}
	cfg.SenderPace = func() time.Duration { return 0 }
	for _, c := range run(t, cfg).Checks {
		if c.Name == CheckPace {
			t.Fatalf("a pace note with no pace known: %+v", c)
		}
	}
}

// A pace under a second is said in milliseconds, not "0 s"; a list whose
// size is 0 (unknown) gets the daily rate, not "0 addresses go out at once".
func TestKnownPaceUnderASecond(t *testing.T) {
	calls := 0
	cfg := adminConfig(t, false, 0, &calls)
	cfg.SenderPace = func() time.Duration { return 347 * time.Millisecond }
	c := check(t, run(t, cfg), CheckPace)
	want := "an earlier campaign of sender bulk was rate-limited by the homeserver to one invite per 347 ms: about 248991 invites a day"
	if c.Detail != want {
		t.Fatalf("pace note %q; want %q", c.Detail, want)
	}
	for d, want := range map[time.Duration]string{347 * time.Millisecond: "347 ms", 1500 * time.Millisecond: "1.5 s", 400 * time.Second: "6 min 40 s"} {
		if got := PaceText(d); got != want {
			t.Errorf("PaceText(%v) = %q, want %q", d, got, want)
		}
	}
}
