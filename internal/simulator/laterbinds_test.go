package simulator_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// A person who registers after the invite: the bind turns the 3PID invite
// into the account's invite, and with "join" the account joins.
func TestLaterBindThenJoin(t *testing.T) {
	for _, viaConfig := range []bool{false, true} {
		cfg := testConfig()
		const addr, user = "later@example.org", "@later:sim.local"
		if viaConfig {
			cfg.LaterBinds = []simulator.LaterBind{{Binding: simulator.Binding{Address: addr, UserID: user}, After: 200 * time.Millisecond, Join: true}}
		}
		sim, ts := simtest.NewServer(t, cfg)
		wantStatus(t, invite(t, ts, addr), 200, "")
		if !viaConfig {
			res := call(t, ts, "POST", "/_sim/bind", "", map[string]any{"address": addr, "user_id": user, "after": "50ms", "join": true})
			wantStatus(t, res, 200, "")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if m, _ := sim.Membership(simulator.DefaultRoomID, user); m == "join" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("config %v: %s never joined", viaConfig, user)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if st := sim.Stats(); st.LaterBinds != 1 || st.Binds != 1 || st.OnBindInvites != 1 || st.Joins != 1 {
			t.Errorf("config %v: stats %+v", viaConfig, st)
		}
	}
	wantStatus(t, call(t, newLaterTS(t), "POST", "/_sim/bind", "", map[string]any{"address": "x@example.org", "user_id": "@x:sim.local", "after": "soon"}), 400, "M_INVALID_PARAM")
	if _, err := simulator.New(simulator.Config{LaterBinds: []simulator.LaterBind{{Binding: simulator.Binding{Address: "a@example.org", UserID: "@a:sim.local"}}}}); err == nil {
		t.Error("a later bind without After accepted")
	}
}

func newLaterTS(t *testing.T) *httptest.Server {
	_, ts := simtest.NewServer(t, testConfig())
	return ts
}
