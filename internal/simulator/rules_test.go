package simulator_test

import (
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestScriptedRules(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@banned.example", Status: 403, ErrCode: "M_FORBIDDEN", Error: "Banned"},
		{Pattern: "*@gone.example", Status: 404, ErrCode: "M_NOT_FOUND"},
		{Pattern: "*@flaky.example", Status: 500, Times: 2},
		{Pattern: "*@shadow.example", Status: 200},
	}})
	res := invite(t, ts, "Someone@Banned.example") // matched after lowercasing
	wantStatus(t, res, 403, "M_FORBIDDEN")
	if res.body["error"] != "Banned" {
		t.Errorf("error %v, want the scripted message", res.body["error"])
	}
	wantStatus(t, invite(t, ts, "x@gone.example"), 404, "M_NOT_FOUND")
	for _, addr := range []string{"a@flaky.example", "b@flaky.example"} { // Times counts per address
		wantStatus(t, invite(t, ts, addr), 500, "M_UNKNOWN")
		wantStatus(t, invite(t, ts, addr), 500, "M_UNKNOWN")
		wantStatus(t, invite(t, ts, addr), 200, "")
	}
	wantStatus(t, invite(t, ts, "s@shadow.example"), 200, "")
	wantStatus(t, invite(t, ts, "ok@example.org"), 200, "")
	st := sim.Stats()
	if st.Accepted != 3 || st.StoreInvites != 3 {
		t.Errorf("stats %+v, want only the two flaky and the ordinary invite stored", st)
	}
}

func TestScriptedRuleAfterStore(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Rules: []simulator.Rule{
		{Pattern: "*@ambiguous.example", Status: 500, ErrCode: "M_UNKNOWN", AfterStore: true},
	}})
	path := txnPath(simulator.DefaultRoomID, "t1")
	for i := 0; i < 2; i++ {
		// Synapse caches successes only: the retried PUT runs again.
		wantStatus(t, call(t, ts, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "x@ambiguous.example")), 500, "M_UNKNOWN")
	}
	if st := sim.Stats(); st.Accepted != 2 || st.Duplicates != 1 || st.ExtraEmails != 1 || st.TxnCacheHits != 0 {
		t.Errorf("stats %+v, want the invite stored (and emailed) twice", st)
	}
}

func TestSetRules(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	if err := sim.SetRules([]simulator.Rule{{Pattern: "[", Status: 403}}); err == nil {
		t.Error("SetRules accepted a malformed pattern")
	}
	if err := sim.SetRules([]simulator.Rule{{Pattern: "*", Status: 99}}); err == nil {
		t.Error("SetRules accepted status 99")
	}
	if err := sim.SetRules([]simulator.Rule{{Pattern: "*", Status: 403, ErrCode: "M_FORBIDDEN", Times: 1}}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "r@example.org"), 403, "M_FORBIDDEN")
	wantStatus(t, invite(t, ts, "r@example.org"), 200, "")
	sim.Reset() // uses start again
	wantStatus(t, invite(t, ts, "r@example.org"), 403, "M_FORBIDDEN")
}
