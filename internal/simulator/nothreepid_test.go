package simulator_test

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestNoThreePIDStyles(t *testing.T) {
	for _, c := range []struct {
		style   simulator.NoThreePIDStyle
		status  int
		errcode string
		msg     string
	}{
		{simulator.NoThreePIDConduit, 404, "M_NOT_FOUND", "User not found."},
		{simulator.NoThreePIDTuwunel, 403, "M_THREEPID_DENIED", "Third party identifiers are not implemented"},
	} {
		t.Run(string(c.style), func(t *testing.T) {
			sim, ts := simtest.NewServer(t, simulator.Config{NoThreePID: c.style, RateLimit: simulator.RateLimit{Burst: 1, PerSecond: 0.001}})
			for range 3 { // never rate-limited: the server refuses first
				res := invite(t, ts, "n@example.org")
				wantStatus(t, res, c.status, c.errcode)
				if res.body["error"] != c.msg {
					t.Errorf("error %q", res.body["error"])
				}
			}
			// Authentication still comes first.
			wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), "bad", inviteReq(ts, "n@example.org")), 401, "M_UNKNOWN_TOKEN")
			st := sim.Stats()
			if st.ThreePIDDenied != 3 || st.StoreInvites != 0 || st.Lookups != 0 || st.RateLimited != 0 || st.InviteStatuses[c.status] != 3 {
				t.Errorf("stats %+v", st)
			}
			// The server is mended: invites work again.
			if err := sim.SetNoThreePID(simulator.ThreePIDSupported); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, invite(t, ts, "n@example.org"), 200, "")
		})
	}
	if _, err := simulator.New(simulator.Config{NoThreePID: "dendrite"}); err == nil {
		t.Error("an unknown NoThreePID style was accepted")
	}
}

func TestNoThreePIDEndpoint(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	wantStatus(t, call(t, ts, "POST", "/_sim/no_3pid", "", map[string]string{"style": "tuwunel"}), 200, "")
	wantStatus(t, invite(t, ts, "e@example.org"), 403, "M_THREEPID_DENIED")
	wantStatus(t, call(t, ts, "POST", "/_sim/no_3pid", "", map[string]string{"style": "conduit"}), 200, "")
	wantStatus(t, invite(t, ts, "e@example.org"), 404, "M_NOT_FOUND")
	wantStatus(t, call(t, ts, "POST", "/_sim/no_3pid", "", map[string]string{"style": "nope"}), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "POST", "/_sim/no_3pid", "", map[string]string{"style": ""}), 200, "")
	wantStatus(t, invite(t, ts, "e@example.org"), 200, "")
}
