package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

func TestPreflightCommandPasses(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	r := mxinvite(t, join([]string{"preflight", "--room", simulator.DefaultRoomAlias}, e.redisArgs(), e.profileArgs())...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{"✓ access token: ", "✓ room: #demo:sim.local is !room:sim.local", "✓ membership: ",
		"✓ power level: @inviter:sim.local has power level 100, inviting needs 50", "✓ identity server: ", "✓ redis: "}
	if len(lines) != len(want) {
		t.Fatalf("stdout:\n%s", r.stdout)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d %q, want it to start with %q", i+1, lines[i], w)
		}
	}
	if k := e.keys(); len(k) != 0 {
		t.Errorf("preflight wrote %v", k)
	}
}

func TestPreflightCommandFailsWithExit3(t *testing.T) {
	room := simulator.DefaultRoom()
	delete(room.Members, simulator.DefaultUserID)
	e := newCLIEnv(t, simulator.Config{Rooms: []simulator.Room{room}})
	r := mxinvite(t, join([]string{"preflight", "--json", "--room", simulator.DefaultRoomID}, e.redisArgs(), e.profileArgs())...)
	if r.code != exitPreflight {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var report struct {
		OK     bool `json:"ok"`
		Checks []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &report); err != nil || report.OK || len(report.Checks) != 6 {
		t.Fatalf("stdout %s (%v)", r.stdout, err)
	}
	if c := report.Checks[2]; c.Name != "membership" || c.OK || !strings.Contains(c.Detail, "is not in !room:sim.local") {
		t.Errorf("membership check %+v", c)
	}
	if !strings.HasPrefix(r.stderr, "mxinvite: preflight failed: 2 of 6 checks (first: membership: ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestPreflightCommandBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"preflight"}, "room"},
		{[]string{"preflight", "--room", "!r:x"}, "--homeserver"},
		{[]string{"preflight", "--room", "!r:x", "--homeserver", "http://127.0.0.1:1", "--access-token-file", "/does/not/exist"}, "--access-token-file"},
	} {
		t.Setenv("MXINVITE_ACCESS_TOKEN", "")
		r := mxinvite(t, tc.args...)
		if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.flag) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming %q", tc.args, r.code, r.stderr, tc.flag)
		}
	}
}
