package simulator_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestStatsEndpoint(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	invite(t, ts, "a@example.org")
	invite(t, ts, "a@example.org")
	call(t, ts, "GET", "/_matrix/client/v3/account/whoami", simulator.DefaultAccessToken, nil)

	res := call(t, ts, "GET", "/_sim/stats", "", nil)
	var got simulator.Stats
	if err := json.Unmarshal(res.raw, &got); err != nil {
		t.Fatalf("stats: %v in %s", err, res.raw)
	}
	if want := sim.Stats(); !reflect.DeepEqual(got, want) {
		t.Errorf("/_sim/stats = %+v, Stats() = %+v", got, want)
	}
	if got.InviteRequests != 2 || got.Duplicates != 1 || got.Requests["whoami"] != 1 {
		t.Errorf("stats %+v", got)
	}
	if req := sim.Requests(); req["invite"] != 2 {
		t.Errorf("Requests() = %v", req)
	}

	var accepted []simulator.Invite
	if err := json.Unmarshal(call(t, ts, "GET", "/_sim/accepted", "", nil).raw, &accepted); err != nil || len(accepted) != 2 || !accepted[1].Duplicate {
		t.Errorf("/_sim/accepted: %v %+v", err, accepted)
	}

	wantStatus(t, call(t, ts, "POST", "/_sim/reset", "", nil), 200, "")
	if st := sim.Stats(); st.InviteRequests != 0 || st.Accepted != 0 || len(st.Requests) != 0 || len(sim.Accepted()) != 0 {
		t.Errorf("after reset: %+v", st)
	}
	invite(t, ts, "a@example.org")
	if st := sim.Stats(); st.Duplicates != 0 {
		t.Errorf("after reset the first invite is a duplicate: %+v", st)
	}
}

func TestDownEndpoint(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	wantStatus(t, call(t, ts, "POST", "/_sim/down", "", map[string]bool{"down": true}), 200, "")
	wantStatus(t, invite(t, ts, "d@example.org"), 503, "M_UNKNOWN")
	wantStatus(t, call(t, ts, "POST", "/_sim/down", "", map[string]bool{"down": false}), 200, "")
	wantStatus(t, invite(t, ts, "d@example.org"), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/down", "", map[string]any{}), 400, "M_MISSING_PARAM")
}

func TestUnknownEndpoint(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	wantStatus(t, call(t, ts, "GET", "/_matrix/client/v3/nothing", simulator.DefaultAccessToken, nil), 404, "M_UNRECOGNIZED")
	wantStatus(t, call(t, ts, "GET", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, nil), 404, "M_UNRECOGNIZED")
	if n := sim.Requests()["unrecognized"]; n != 2 {
		t.Errorf("unrecognized = %d, want 2", n)
	}
	res := call(t, ts, "GET", "/_matrix/client/versions", "", nil)
	if v, _ := res.body["versions"].([]any); res.status != 200 || len(v) == 0 {
		t.Errorf("versions: %d %s", res.status, res.raw)
	}
}
