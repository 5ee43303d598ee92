package main

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simoverlay"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// newOverlayEnv is a cliEnv whose homeserver and identity server is a
// simulator behind simoverlay (identity terms, Synapse's admin API).
func newOverlayEnv(t *testing.T, cfg simoverlay.Config) (*cliEnv, *simoverlay.Overlay) {
	t.Helper()
	r := redistest.Start(t)
	e := &cliEnv{t: t, rdb: r.Client(t), redis: r.URL(), dir: t.TempDir(),
		prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q")}
	var o *simoverlay.Overlay
	e.sim, o, e.ts = simoverlay.Start(t, simulator.Config{}, cfg)
	return e, o
}

// accountArgs are the profile flags without an identity token: it is to
// come from the sender's account.
func (e *cliEnv) accountArgs() []string {
	return []string{"--homeserver", e.ts.URL, "--access-token-file", e.file("token", simulator.DefaultAccessToken),
		"--id-server", simtest.IDServer(e.ts), "--identity-scheme", "http"}
}

var termsPolicies = map[string]string{"terms_of_service": "https://id.example.org/terms-en"}

func TestPreflightIdentityTermsExit3ThenAccepted(t *testing.T) {
	e, o := newOverlayEnv(t, simoverlay.Config{Policies: termsPolicies, AdminToken: "-"})
	t.Setenv("MXINVITE_ID_ACCESS_TOKEN", "")
	t.Setenv("MXINVITE_ACCEPT_IDENTITY_TERMS", "")
	args := join([]string{"preflight", "--room", simulator.DefaultRoomID}, e.redisArgs(), e.accountArgs())
	r := mxinvite(t, args...)
	if r.code != exitPreflight {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	line := ""
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "✗ identity token: ") {
			line = l
		}
	}
	if !strings.Contains(line, "terms_of_service version 1.0: https://id.example.org/terms-en") || !strings.Contains(line, "rerun with --accept-identity-terms") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if o.Count("accept_terms") != 0 {
		t.Fatal("terms accepted without the flag")
	}

	// The environment variable works like the flag.
	t.Setenv("MXINVITE_ACCEPT_IDENTITY_TERMS", "true")
	r = mxinvite(t, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "✓ identity token: registered with ") || !strings.Contains(r.stdout, "✓ identity server: ") {
		t.Fatalf("with MXINVITE_ACCEPT_IDENTITY_TERMS: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := o.Accepted(); len(got) != 1 || got[0] != "https://id.example.org/terms-en" || o.Count("accept_terms") != 1 {
		t.Errorf("accepted %v in %d calls", got, o.Count("accept_terms"))
	}
	// Consent is kept per user: without the flag it now passes.
	t.Setenv("MXINVITE_ACCEPT_IDENTITY_TERMS", "")
	if r := mxinvite(t, args...); r.code != 0 {
		t.Errorf("after consent: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "sim-id-") {
		t.Errorf("an identity token was printed:\n%s%s", r.stdout, r.stderr)
	}
}

func TestEnqueueIdentityTermsFlag(t *testing.T) {
	e, o := newOverlayEnv(t, simoverlay.Config{Policies: termsPolicies, AdminToken: "-"})
	t.Setenv("MXINVITE_ID_ACCESS_TOKEN", "")
	t.Setenv("MXINVITE_ACCEPT_IDENTITY_TERMS", "")
	list := e.file("list.txt", "a@example.org\nb@example.org\n")
	args := join([]string{"enqueue", "--room", simulator.DefaultRoomID, "--campaign", "c", "--file", list}, e.redisArgs(), e.accountArgs())
	r := mxinvite(t, args...)
	if r.code != exitPreflight || !strings.Contains(r.stderr, "https://id.example.org/terms-en") || !strings.Contains(r.stderr, "nothing was enqueued") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if k := e.keys(); len(k) != 0 {
		t.Fatalf("keys written: %v", k)
	}
	r = mxinvite(t, append(args, "--accept-identity-terms")...)
	if r.code != 0 || !strings.Contains(r.stdout, "enqueued 2,") {
		t.Fatalf("with --accept-identity-terms: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if o.Count("accept_terms") != 1 || o.Count("register") != 2 {
		t.Errorf("accept %d, register %d", o.Count("accept_terms"), o.Count("register"))
	}
}

func TestWorkerDeclaresAcceptIdentityTerms(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	r := mxinvite(t, join([]string{"worker", "--until-idle", "--accept-identity-terms"}, e.redisArgs(), e.profileArgs())...)
	if r.code != 0 {
		t.Fatalf("exit %d %s", r.code, r.stderr)
	}
}

func TestPreflightRateLimitNote(t *testing.T) {
	e, _ := newOverlayEnv(t, simoverlay.Config{})
	list := e.file("list.txt", "a@example.org\nb@example.org\nc@example.org\nd@example.org\ne@example.org\nf@example.org\ng@example.org\nnot-an-address\n")
	r := mxinvite(t, join([]string{"preflight", "--room", simulator.DefaultRoomID, "--file", list, "--sender", "bulk"}, e.redisArgs(), e.profileArgs())...)
	// 7 valid addresses: 5 at once, then 2 × 400 s.
	if r.code != 0 || !strings.Contains(r.stdout, "ℹ rate limit: @inviter:sim.local has no rate-limit override") ||
		!strings.Contains(r.stdout, "this campaign's 7 addresses would take about 13 min 20 s; mxinvite ratelimit lift --sender bulk lifts it") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestRateLimitCommands(t *testing.T) {
	e, o := newOverlayEnv(t, simoverlay.Config{})
	rl := func(sub string) result {
		return mxinvite(t, join([]string{"ratelimit", sub, "--sender", "bulk"}, e.profileArgs())...)
	}
	steps := []struct{ sub, out string }{
		{"show", "@inviter:sim.local: no override; the server's rate limits apply (Synapse's code default for 3PID invites: burst 5, then one per 400 s"},
		{"lift", "@inviter:sim.local: rate limits lifted (override: messages_per_second 0, burst_count 0)"},
		{"show", "@inviter:sim.local: not rate-limited (override: messages_per_second 0, burst_count 0)"},
		{"restore", "@inviter:sim.local: override removed; the server's rate limits apply again"},
		{"show", "@inviter:sim.local: no override"},
	}
	for i, s := range steps {
		r := rl(s.sub)
		if r.code != 0 || !strings.HasPrefix(r.stdout, s.out) || strings.Count(r.stdout, "\n") != 1 {
			t.Fatalf("step %d (%s): exit %d\n%s\n%s", i, s.sub, r.code, r.stdout, r.stderr)
		}
		if i == 1 && o.Override(simulator.DefaultUserID) != `{"burst_count":0,"messages_per_second":0}` {
			t.Errorf("stored after lift: %q", o.Override(simulator.DefaultUserID))
		}
	}
	if o.Count("override_set") != 1 || o.Count("override_delete") != 1 || o.Count("override_get") != 3 {
		t.Errorf("set %d, delete %d, get %d", o.Count("override_set"), o.Count("override_delete"), o.Count("override_get"))
	}
}

func TestRateLimitNotAdmin(t *testing.T) {
	e, o := newOverlayEnv(t, simoverlay.Config{AdminToken: "the-admin"})
	for _, sub := range []string{"show", "lift", "restore"} {
		r := mxinvite(t, join([]string{"ratelimit", sub}, e.profileArgs())...)
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "not a server admin's") {
			t.Errorf("%s: exit %d, stderr %q", sub, r.code, r.stderr)
		}
	}
	if o.Count("override_set") != 0 || o.Count("override_delete") != 0 {
		t.Fatal("a refused token changed an override")
	}
	// With an admin's token beside the sender's own.
	r := mxinvite(t, join([]string{"ratelimit", "lift", "--admin-token-file", e.file("admin", "the-admin")}, e.profileArgs())...)
	if r.code != 0 || o.Count("override_set") != 1 {
		t.Errorf("with --admin-token-file: exit %d %s", r.code, r.stderr)
	}
}
