package main

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// accountArgs are the profile flags without an identity token: it is to
// come from the sender's account.
func (e *cliEnv) accountArgs() []string {
	return []string{"--homeserver", e.ts.URL, "--access-token-file", e.file("token", simulator.DefaultAccessToken),
		"--id-server", simtest.IDServer(e.ts), "--identity-scheme", "http"}
}

var termsPolicies = []simulator.Policy{{Name: "terms_of_service", Version: "1.0", URL: "https://id.example.org/terms-en"}}

// adminSimulator is a simulator whose default user is a server admin
// (Synapse's override_ratelimit admin API), with extra users beside it.
func adminSimulator(admin bool, extra ...simulator.User) simulator.Config {
	user := simulator.DefaultUser()
	user.Admin = admin
	return simulator.Config{Users: append([]simulator.User{user}, extra...)}
}

func TestPreflightIdentityTermsExit3ThenAccepted(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Terms: termsPolicies})
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
	if e.sim.Requests()["is_accept_terms"] != 0 || e.sim.TermsSigned(simulator.DefaultUserID) {
		t.Fatal("terms accepted without the flag")
	}

	// The environment variable works like the flag.
	t.Setenv("MXINVITE_ACCEPT_IDENTITY_TERMS", "true")
	r = mxinvite(t, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "✓ identity token: registered with ") || !strings.Contains(r.stdout, "✓ identity server: ") {
		t.Fatalf("with MXINVITE_ACCEPT_IDENTITY_TERMS: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if st := e.sim.Stats(); !e.sim.TermsSigned(simulator.DefaultUserID) || st.TermsAccepted[simulator.DefaultUserID] != 1 || st.Requests["is_accept_terms"] != 1 {
		t.Errorf("signed %v, accepted in %d of %d calls", e.sim.TermsSigned(simulator.DefaultUserID), st.TermsAccepted[simulator.DefaultUserID], st.Requests["is_accept_terms"])
	}
	// Consent is kept per user: without the flag it now passes.
	t.Setenv("MXINVITE_ACCEPT_IDENTITY_TERMS", "")
	if r = mxinvite(t, args...); r.code != 0 {
		t.Errorf("after consent: exit %d\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, "sim-id-") {
		t.Errorf("an identity token was printed:\n%s%s", r.stdout, r.stderr)
	}
}

func TestEnqueueIdentityTermsFlag(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{Terms: termsPolicies})
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
	if st := e.sim.Stats(); st.Requests["is_accept_terms"] != 1 || st.TermsAccepted[simulator.DefaultUserID] != 1 || st.Requests["is_register"] != 2 {
		t.Errorf("accept %d (%d accepted), register %d", st.Requests["is_accept_terms"], st.TermsAccepted[simulator.DefaultUserID], st.Requests["is_register"])
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
	e := newCLIEnv(t, adminSimulator(true))
	list := e.file("list.txt", "a@example.org\nb@example.org\nc@example.org\nd@example.org\ne@example.org\nf@example.org\ng@example.org\nnot-an-address\n")
	r := mxinvite(t, join([]string{"preflight", "--room", simulator.DefaultRoomID, "--file", list, "--sender", "bulk"}, e.redisArgs(), e.profileArgs())...)
	// 7 valid addresses: 5 at once, then 2 × 400 s.
	if r.code != 0 || !strings.Contains(r.stdout, "ℹ rate limit: @inviter:sim.local has no rate-limit override") ||
		!strings.Contains(r.stdout, "this campaign's 7 addresses would take about 13 min 20 s; mxinvite ratelimit lift --sender bulk lifts it") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestRateLimitCommands(t *testing.T) {
	e := newCLIEnv(t, adminSimulator(true))
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
		if o, ok := e.sim.RateLimitOverride(simulator.DefaultUserID); i == 1 && (!ok || o != (simulator.RateOverride{})) {
			t.Errorf("stored after lift: %+v %v", o, ok)
		}
	}
	if _, ok := e.sim.RateLimitOverride(simulator.DefaultUserID); ok {
		t.Error("an override is left after restore")
	}
	if calls := e.sim.Stats().OverrideRatelimit; calls["POST"] != 1 || calls["DELETE"] != 1 || calls["GET"] != 3 {
		t.Errorf("set %d, delete %d, get %d", calls["POST"], calls["DELETE"], calls["GET"])
	}
}

func TestRateLimitNotAdmin(t *testing.T) {
	admin := simulator.User{AccessToken: "the-admin", UserID: "@admin:sim.local", Admin: true}
	e := newCLIEnv(t, adminSimulator(false, admin))
	for _, sub := range []string{"show", "lift", "restore"} {
		r := mxinvite(t, join([]string{"ratelimit", sub}, e.profileArgs())...)
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "not a server admin's") {
			t.Errorf("%s: exit %d, stderr %q", sub, r.code, r.stderr)
		}
	}
	if calls := e.sim.Stats().OverrideRatelimit; calls["POST"] != 0 || calls["DELETE"] != 0 {
		t.Fatal("a refused token changed an override")
	}
	// With an admin's token beside the sender's own.
	r := mxinvite(t, join([]string{"ratelimit", "lift", "--admin-token-file", e.file("admin", "the-admin")}, e.profileArgs())...)
	if o, ok := e.sim.RateLimitOverride(simulator.DefaultUserID); r.code != 0 || e.sim.Stats().OverrideRatelimit["POST"] != 1 || !ok || o != (simulator.RateOverride{}) {
		t.Errorf("with --admin-token-file: exit %d %s; override %+v %v", r.code, r.stderr, o, ok)
	}
}
