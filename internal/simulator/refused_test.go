package simulator_test

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestRefusedAddresses(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{RefusedAddresses: []string{"*@spam.example", "bad*@example.org"}})
	for _, a := range []string{"x@SPAM.example", "y@spam.example", "bad1@example.org"} {
		res := invite(t, ts, a)
		wantStatus(t, res, 500, "M_UNKNOWN")
		if res.body["error"] != "Internal server error" {
			t.Errorf("%s: error %q, want Synapse's bare 500", a, res.body["error"])
		}
	}
	wantStatus(t, invite(t, ts, "good@example.org"), 200, "")
	st := sim.Stats()
	if st.IdentityRefusals[simulator.RefusalRefused] != 3 || st.StoreInvites != 1 || st.Accepted != 1 || st.ServerErrors != 3 {
		t.Errorf("stats %+v, want 3 refusals, no email for them", st)
	}
	// Sydent's own endpoint answers its 403.
	res := call(t, ts, "POST", isBase+"/store-invite", simulator.DefaultIDAccessToken, map[string]string{
		"medium": "email", "address": "z@spam.example", "room_id": simulator.DefaultRoomID, "sender": simulator.DefaultUserID})
	wantStatus(t, res, 403, "M_UNAUTHORIZED")
	if res.body["error"] != "Invite not allowed" {
		t.Errorf("error %q", res.body["error"])
	}
	// Changed at run time, through the setter and the control.
	wantStatus(t, call(t, ts, "POST", "/_sim/refused", "", map[string]any{"patterns": []string{"good@*"}}), 200, "")
	wantStatus(t, invite(t, ts, "good@example.org"), 500, "M_UNKNOWN")
	wantStatus(t, invite(t, ts, "x@spam.example"), 200, "")
	if err := sim.SetRefusedAddresses(nil); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "good@example.org"), 200, "")
	wantStatus(t, call(t, ts, "POST", "/_sim/refused", "", map[string]any{"patterns": []string{"["}}), 400, "M_INVALID_PARAM")
	if err := (simulator.Config{RefusedAddresses: []string{"ok", "["}}).Validate(); err == nil || !strings.Contains(err.Error(), "RefusedAddresses[1]") {
		t.Errorf("Validate: %v, want RefusedAddresses[1] named", err)
	}
}

func TestRefusedAddressUsesTheEmailLimit(t *testing.T) {
	// Sydent charges the sender's email limit before its keyword check.
	sim, ts := simtest.NewServer(t, simulator.Config{
		RefusedAddresses: []string{"*@spam.example"},
		StoreLimit:       simulator.StoreLimit{Burst: 1, Interval: 1 << 40},
	})
	wantStatus(t, invite(t, ts, "x@spam.example"), 500, "M_UNKNOWN")
	wantStatus(t, invite(t, ts, "good@example.org"), 500, "M_UNKNOWN")
	st := sim.Stats()
	if st.IdentityRefusals[simulator.RefusalRefused] != 1 || st.IdentityRefusals[simulator.RefusalStoreLimited] != 1 || st.StoreInvites != 0 {
		t.Errorf("refusals %v, want one refused then one over the limit", st.IdentityRefusals)
	}
}

func TestRefusedAddressBoundIsNotStored(t *testing.T) {
	// A bound address never reaches store-invite: its refusal does not apply.
	cfg := boundConfig()
	cfg.RefusedAddresses = []string{"*@example.org"}
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, boundAddr), 200, "")
	if st := sim.Stats(); st.BoundThreePIDInvites != 1 || st.IdentityRefusals[simulator.RefusalRefused] != 0 {
		t.Errorf("stats %+v", st)
	}
}
