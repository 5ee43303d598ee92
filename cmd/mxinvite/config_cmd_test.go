package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// configYAML is a configuration for the test's Redis with the given senders
// section (already indented as list items).
func (e *cliEnv) configYAML(senders string) string {
	return fmt.Sprintf("redis: {url: %q}\nprefix: %s\nqueue: %s\nworker: {concurrency: 3, retry_waits: [100ms]}\nsenders:\n%s",
		e.redis, e.prefix, e.queue, senders)
}

// simSender is a senders item for a simulator reached at url with token.
func (e *cliEnv) simSender(name, url, host, token string) string {
	return fmt.Sprintf("  - name: %s\n    homeserver: %s\n    access_token_file: %s\n"+
		"    identity_servers: [{host: %q, token_file: %s}]\n",
		name, url, e.file(name+".token", token), host, e.file(name+".id", simulator.DefaultIDAccessToken))
}

// printedConfig reads back what config check printed.
func printedConfig(t *testing.T, r result) config.Config {
	t.Helper()
	c, err := config.Parse("stdout", []byte(r.stdout))
	if err != nil {
		t.Fatalf("config check printed what does not parse: %v\n%s", err, r.stdout)
	}
	return c
}

func TestConfigCheckAgainstTheSimulator(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	path := e.file("mxinvite.yaml", e.configYAML(e.simSender("alice", e.ts.URL, simtest.IDServer(e.ts), simulator.DefaultAccessToken)))
	r := mxinvite(t, "config", "check", "--config", path, "--identity-scheme", "http")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"# ✓ redis: " + e.redis + " answers\n",
		"# ✓ sender alice tokens: readable\n",
		"# ✓ sender alice: @inviter:sim.local at " + e.ts.URL + " (whoami)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	c := printedConfig(t, r)
	if c.Prefix != e.prefix || c.Worker.Concurrency != 3 || len(c.Senders) != 1 || c.Senders[0].Homeserver != e.ts.URL {
		t.Errorf("printed %+v", c)
	}
	for _, secret := range []string{simulator.DefaultAccessToken, simulator.DefaultIDAccessToken} {
		if strings.Contains(r.stdout, secret) {
			t.Errorf("config check printed the token %q", secret)
		}
	}
	if k := e.keys(); len(k) != 0 {
		t.Errorf("config check wrote %v", k)
	}
}

func TestConfigCheckFindsProblems(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	good := e.simSender("alice", e.ts.URL, simtest.IDServer(e.ts), simulator.DefaultAccessToken)
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"dead token", e.configYAML(e.simSender("bob", e.ts.URL, simtest.IDServer(e.ts), "not-a-token")),
			"# ✗ sender bob: whoami at " + e.ts.URL + ": Unauthorised"},
		{"unknown key", "redis: {url: x}\nworker:\n  concurency: 3\n", `line 3: unknown key "concurency"`},
		{"bad URL", e.configYAML(good + "  - {name: carol, homeserver: 'sim.local', access_token_file: /t}\n"),
			"senders[1].homeserver: "},
		{"missing token file", e.configYAML("  - {name: dave, homeserver: '" + e.ts.URL + "', access_token_file: " + e.dir + "/missing}\n"),
			"# ✗ sender dave tokens: senders[0].access_token_file: open " + e.dir + "/missing: no such file or directory"},
	} {
		path := e.file("c.yaml", tc.doc)
		r := mxinvite(t, "config", "check", "--config", path, "--identity-scheme", "http")
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want 2 and %q\nstdout:\n%s\nstderr:\n%s", tc.name, r.code, tc.want, r.stdout, r.stderr)
		}
	}
	if st := e.sim.Stats(); st.InviteRequests != 0 {
		t.Errorf("config check sent %d invites", st.InviteRequests)
	}
}

// TestConfigPrecedence: a flag beats the environment, which beats the file,
// which beats the default.
func TestConfigPrecedence(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	path := e.file("c.yaml", "prefix: from-file\nworker: {concurrency: 7}\nsenders:\n"+
		e.simSender("alice", e.ts.URL, "id.example.org", simulator.DefaultAccessToken))
	check := func(args ...string) config.Config {
		t.Helper()
		r := mxinvite(t, append([]string{"config", "check", "--offline", "--config", path}, args...)...)
		if r.code != 0 {
			t.Fatalf("%q: exit %d\n%s\n%s", args, r.code, r.stdout, r.stderr)
		}
		return printedConfig(t, r)
	}
	if c := check(); c.Prefix != "from-file" || c.Worker.Concurrency != 7 || c.Queue != "invites" || c.Worker.ShutdownTimeout.String() != "30s" {
		t.Errorf("file: prefix %q concurrency %d queue %q", c.Prefix, c.Worker.Concurrency, c.Queue)
	}
	t.Setenv("MXINVITE_PREFIX", "from-env")
	t.Setenv("MXINVITE_CONCURRENCY", "5")
	if c := check(); c.Prefix != "from-env" || c.Worker.Concurrency != 5 {
		t.Errorf("env: prefix %q concurrency %d", c.Prefix, c.Worker.Concurrency)
	}
	if c := check("--prefix", "from-flag", "--concurrency", "2"); c.Prefix != "from-flag" || c.Worker.Concurrency != 2 {
		t.Errorf("flag: prefix %q concurrency %d", c.Prefix, c.Worker.Concurrency)
	}
	// The profile flags override the file's sender of that name.
	c := check("--sender", "alice", "--homeserver", "http://127.0.0.1:1", "--id-server", "vector.im")
	if s := c.Senders[0]; len(c.Senders) != 1 || s.Homeserver != "http://127.0.0.1:1" ||
		s.IdentityServers[0].Host != "vector.im" || s.IdentityServers[0].TokenFile != "" || s.IdentityServers[1].Host != "id.example.org" {
		t.Errorf("senders %+v", c.Senders)
	}
}

// TestFlagOnlySetupIsProfileDefault: without a file the flags still make
// the one sender, "default", and the defaults printed are the flags'.
func TestFlagOnlySetupIsProfileDefault(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	t.Setenv("MXINVITE_ACCESS_TOKEN", simulator.DefaultAccessToken)
	r := mxinvite(t, "config", "check", "--homeserver", e.ts.URL, "--redis", e.redis, "--identity-scheme", "http")
	if r.code != 0 || !strings.Contains(r.stdout, "# ✓ sender default: @inviter:sim.local") {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Offline, with no --redis: every value printed is a flag's default.
	r = mxinvite(t, "config", "check", "--offline", "--homeserver", e.ts.URL)
	got, err := printedConfig(t, r).WithDefaults().YAML()
	if r.code != 0 || err != nil {
		t.Fatalf("exit %d (%v)\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	want, _ := config.Config{Senders: []config.Sender{{Name: "default", Homeserver: e.ts.URL,
		AccessTokenFile: config.InlineSecret}}}.WithDefaults().YAML()
	if string(got) != string(want) {
		t.Fatalf("the flags' defaults differ from the configuration's:\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestEnqueueRefusesASenderNoConfigNames(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	path := e.file("c.yaml", e.configYAML(e.simSender("alice", e.ts.URL, simtest.IDServer(e.ts), simulator.DefaultAccessToken)))
	list := e.file("list.txt", "a@example.org\n")
	for _, args := range [][]string{
		{"enqueue", "--config", path, "--sender", "bob", "--no-preflight", "--room", simulator.DefaultRoomID, "--campaign", "c", "--file", list},
		{"invite", "--config", path, "--sender", "bob", "--room", simulator.DefaultRoomID, "--campaign", "c", "--address", "a@example.org"},
		{"schedule", "add", "--config", path, "--sender", "bob", "--room", simulator.DefaultRoomID, "--campaign", "c",
			"--cron", "@daily", "--file", list},
	} {
		r := mxinvite(t, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, `--sender "bob": `+path+" names no such sender (it has alice)") {
			t.Errorf("%s: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
	}
	if k := e.keys(); len(k) != 0 {
		t.Errorf("refused commands wrote %v", k)
	}
	// Without --sender, the file's first sender is the default.
	r := mxinvite(t, "invite", "--config", path, "--room", simulator.DefaultRoomID, "--campaign", "c", "--address", "a@example.org")
	if r.code != 0 {
		t.Fatalf("invite with the default sender: exit %d %s", r.code, r.stderr)
	}
	if k, _ := e.rdb.Keys(context.Background(), e.prefix+":invite:*").Result(); len(k) != 1 {
		t.Fatalf("records %v", k)
	} else if sender, _ := e.rdb.HGet(context.Background(), k[0], "sender").Result(); sender != "alice" {
		t.Errorf("the invite's sender is %q, want alice (the file's first)", sender)
	}
}
