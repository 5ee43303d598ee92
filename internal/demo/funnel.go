package demo

import (
	"context"
	"fmt"
	"strings"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/track"
	"github.com/mxinvite/mxinvite/worker"
)

// The demo's funnel: one member in ten already has an account bound to the
// address (one in forty is even in the room), so resolve-first invites them
// by Matrix ID or not at all; after the campaign, some 3PID invitees
// register and bind their address, some invitees join, and a track shows
// the funnel (sent, registered, joined).

// member reports whether row i of the list is a plain member row
// (writeList's default case).
func member(i int) bool {
	return !(i%211 == 100 || i%307 == 150 || i%401 == 200 || i%97 == 50 || (i%149 == 75 && i > 0))
}

func memberAddress(i int) string { return fmt.Sprintf("member%d@example.org", i) }
func memberUser(i int) string    { return fmt.Sprintf("@member%d:sim.local", i) }

// bound: the address of row i is bound before the campaign; joined: and
// that account is in the room.
func bound(i int) bool  { return member(i) && i%10 == 3 }
func joined(i int) bool { return bound(i) && i%40 == 3 }

// laterBound: row i's person registers after the invite; laterJoined: and
// joins the room.
func laterBound(i int) bool  { return member(i) && i%10 == 7 }
func laterJoined(i int) bool { return laterBound(i) && i%20 == 7 }

// funnelConfig adds the bound accounts to cfg.
func funnelConfig(cfg *simulator.Config, invites int) {
	room := simulator.DefaultRoom()
	for i := range invites {
		if bound(i) {
			cfg.Bindings = append(cfg.Bindings, simulator.Binding{Address: memberAddress(i), UserID: memberUser(i)})
		}
		if joined(i) {
			room.Members[memberUser(i)] = "join"
		}
	}
	cfg.Rooms = []simulator.Room{room}
}

// afterwards binds and joins as people do once invited, then tracks.
func afterwards(ctx context.Context, e *env, w *worker.Worker, invites int) (track.Report, error) {
	for i := range invites {
		if laterBound(i) {
			if _, err := e.sim.Bind("email", memberAddress(i), memberUser(i)); err != nil {
				return track.Report{}, err
			}
		}
		if laterJoined(i) || (bound(i) && !joined(i) && i%30 == 13) {
			if err := e.sim.Join(simulator.DefaultRoomID, memberUser(i)); err != nil {
				return track.Report{}, err
			}
		}
	}
	rep, err := w.Track(ctx, campaign)
	if err == nil && len(rep.Problems) > 0 {
		err = fmt.Errorf("track: %s", strings.Join(rep.Problems, "; "))
	}
	return rep, err
}
