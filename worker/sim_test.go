package worker

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/tasks"
)

// newSimEnv is newEnv against the simulator, with the simulator's tokens.
func newSimEnv(t *testing.T, cfg simulator.Config, mut ...func(*Config)) (*env, *simulator.Server) {
	t.Helper()
	sim, ts := simtest.NewServer(t, cfg)
	e := newEnv(t, ts.URL, append([]func(*Config){func(c *Config) {
		c.Profiles = []Profile{{
			Name: tasks.DefaultSender, HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken,
			IDServer: simtest.IDServer(ts), IDAccessToken: simulator.DefaultIDAccessToken,
		}}
		c.IdentityScheme = "http"
	}}, mut...)...)
	return e, sim
}

// inviteTo is env.invite for another room.
func (e *env) inviteTo(room, address string) tasks.Invite {
	e.t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: room, Medium: tasks.MediumEmail, Address: address})
	if err != nil {
		e.t.Fatalf("NewInvite: %v", err)
	}
	return inv
}
