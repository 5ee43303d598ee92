package preflight

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
)

// config returns a preflight config against ts with the simulator's
// default tokens.
func config(ts *httptest.Server, room string) Config {
	return Config{
		Client: matrix.NewClient(matrix.ClientConfig{
			HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken, IdentityScheme: "http",
		}),
		Room: room, IDServer: simtest.IDServer(ts), IDAccessToken: simulator.DefaultIDAccessToken,
	}
}

func run(t *testing.T, cfg Config) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Run(ctx, cfg)
}

// want checks that exactly the checks named in failed fail, each with a
// detail containing the given text, and that the others pass.
func want(t *testing.T, r Report, failed map[string]string) {
	t.Helper()
	if len(r.Checks) != 5 {
		t.Fatalf("%d checks, want 5:\n%v", len(r.Checks), r.Checks)
	}
	for _, c := range r.Checks {
		detail, shouldFail := failed[c.Name]
		switch {
		case shouldFail && c.OK:
			t.Errorf("%s passed, want it to fail (%q)", c, detail)
		case shouldFail && !strings.Contains(c.Detail, detail):
			t.Errorf("%s: want the detail to contain %q", c, detail)
		case !shouldFail && !c.OK:
			t.Errorf("%s failed, want it to pass", c)
		}
	}
	if r.OK() != (len(failed) == 0) || len(r.Failed()) != len(failed) {
		t.Errorf("OK() = %v with %d failed checks, want %d", r.OK(), len(r.Failed()), len(failed))
	}
}

func TestAllChecksPass(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	for _, room := range []string{simulator.DefaultRoomID, simulator.DefaultRoomAlias} {
		r := run(t, config(ts, room))
		want(t, r, nil)
		if r.RoomID != simulator.DefaultRoomID || r.UserID != simulator.DefaultUserID {
			t.Errorf("room %q user %q", r.RoomID, r.UserID)
		}
		var b strings.Builder
		if _, err := r.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if strings.Count(b.String(), "✓ ") != 5 {
			t.Errorf("report:\n%s", b.String())
		}
	}
}

func TestSenderNotJoined(t *testing.T) {
	room := simulator.DefaultRoom()
	room.Members[simulator.DefaultUserID] = "leave"
	_, ts := simtest.NewServer(t, simulator.Config{Rooms: []simulator.Room{room}})
	r := run(t, config(ts, simulator.DefaultRoomAlias))
	want(t, r, map[string]string{
		CheckMembership: `not joined to !room:sim.local (membership "leave")`,
		CheckPowerLevel: "not checked",
	})
	if !strings.HasPrefix(r.Failed()[0].String(), "✗ membership: ") {
		t.Errorf("rendered as %q", r.Failed()[0])
	}
}

func TestSenderNeverInRoom(t *testing.T) {
	room := simulator.DefaultRoom()
	delete(room.Members, simulator.DefaultUserID)
	_, ts := simtest.NewServer(t, simulator.Config{Rooms: []simulator.Room{room}})
	want(t, run(t, config(ts, simulator.DefaultRoomID)), map[string]string{
		CheckMembership: "is not in !room:sim.local, or the room does not exist",
		CheckPowerLevel: "not checked",
	})
}

func TestPowerLevelTooLow(t *testing.T) {
	room := simulator.DefaultRoom()
	room.PowerLevels[simulator.DefaultUserID] = 10
	_, ts := simtest.NewServer(t, simulator.Config{Rooms: []simulator.Room{room}})
	want(t, run(t, config(ts, simulator.DefaultRoomID)), map[string]string{
		CheckPowerLevel: "has power level 10 in !room:sim.local, inviting needs 50",
	})
}

func TestBadTokens(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	cfg := config(ts, simulator.DefaultRoomID)
	cfg.Client = matrix.NewClient(matrix.ClientConfig{HomeserverURL: ts.URL, AccessToken: "wrong", IdentityScheme: "http"})
	cfg.IDAccessToken = "wrong too"
	want(t, run(t, cfg), map[string]string{
		CheckToken:          "refused the access token",
		CheckMembership:     "not checked: needs a valid access token",
		CheckPowerLevel:     "not checked",
		CheckIdentityServer: "refused the identity access token",
	})
}

func TestUnknownAliasAndNoIdentityServer(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	cfg := config(ts, "#nope:sim.local")
	cfg.IDServer = ""
	want(t, run(t, cfg), map[string]string{
		CheckRoom:           "room alias #nope:sim.local: NotFound",
		CheckMembership:     "not checked: needs the room",
		CheckPowerLevel:     "not checked",
		CheckIdentityServer: "no identity server given",
	})
}

func TestResolveRoom(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	c := config(ts, "").Client
	ctx := context.Background()
	if id, err := ResolveRoom(ctx, c, simulator.DefaultRoomAlias); err != nil || id != simulator.DefaultRoomID {
		t.Errorf("alias: %q, %v", id, err)
	}
	if id, err := ResolveRoom(ctx, c, "!given:elsewhere"); err != nil || id != "!given:elsewhere" {
		t.Errorf("room ID: %q, %v", id, err)
	}
	for _, bad := range []string{"#nope:sim.local", "room", "#:x"} {
		if _, err := ResolveRoom(ctx, c, bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
