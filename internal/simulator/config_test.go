package simulator_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

func TestWithDefaults(t *testing.T) {
	c := simulator.Config{}.WithDefaults()
	if c.ServerName != simulator.DefaultServerName || len(c.Users) != 1 || c.Users[0].AccessToken != simulator.DefaultAccessToken ||
		len(c.Rooms) != 1 || c.Rooms[0].ID != simulator.DefaultRoomID || c.TxnTTL != simulator.DefaultTxnTTL ||
		c.RateLimit.Style != simulator.StyleSynapse || c.Faults.ErrorStatus != 500 || c.DownMode != simulator.DownUnavailable ||
		c.MaxBodyBytes != simulator.DefaultMaxBodyBytes || c.IDAccessTokens[0] != simulator.DefaultIDAccessToken {
		t.Errorf("defaults: %+v", c)
	}
	if got := (simulator.Config{Rooms: []simulator.Room{}}).WithDefaults().Rooms; len(got) != 0 {
		t.Errorf("an explicit empty room list became %v", got)
	}
	if err := (simulator.Config{}).Validate(); err != nil {
		t.Errorf("the zero config is invalid: %v", err)
	}
}

func TestValidateNamesBadFields(t *testing.T) {
	cfg := simulator.Config{
		Users:     []simulator.User{{AccessToken: "t", UserID: "nobody"}},
		Rooms:     []simulator.Room{{ID: "room", Members: map[string]string{"@a:b": "joined"}}},
		RateLimit: simulator.RateLimit{Burst: 3, Style: "nginx"},
		Faults:    simulator.Faults{ErrorRate: 2},
		Rules:     []simulator.Rule{{Pattern: "[", Status: 403}},
		DownMode:  "sleep",
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad config")
	}
	for _, field := range []string{"Users[0].UserID", "Rooms[0].ID", "Rooms[0].Members", "RateLimit.PerSecond",
		"RateLimit.Style", "Faults.ErrorRate", "Rules[0].Pattern", "DownMode"} {
		if !strings.Contains(err.Error(), "Config."+field) {
			t.Errorf("error does not name %s:\n%v", field, err)
		}
	}
	if _, err := simulator.New(cfg); err == nil {
		t.Error("New accepted a bad config")
	}
}

func TestAddUser(t *testing.T) {
	sim, err := simulator.New(simulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.AddUser(simulator.User{AccessToken: "x", UserID: "bad"}); err == nil {
		t.Error("AddUser accepted a bad user ID")
	}
	if err := sim.AddUser(simulator.User{AccessToken: "new", UserID: "@new:sim.local"}); err != nil {
		t.Fatal(err)
	}
}

func TestListenAndServe(t *testing.T) {
	sim, err := simulator.New(simulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.ListenAndServe(context.Background(), ":0"); err == nil {
		t.Error("ListenAndServe accepted an address on every interface")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sim.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/_matrix/client/versions")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("versions: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop after cancel")
	}
}
