package simulator_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestStoreLimitIsSynapse500WithoutEmail(t *testing.T) {
	cfg := testConfig()
	cfg.Rooms[0].Members[outsiderID] = "join"
	cfg.Rooms[0].PowerLevels[outsiderID] = 100
	cfg.StoreLimit = simulator.StoreLimit{Burst: 3, Interval: time.Hour}
	sim, ts := simtest.NewServer(t, cfg)
	for i := range 3 {
		wantStatus(t, invite(t, ts, fmt.Sprintf("s%d@example.org", i)), 200, "")
	}
	for i := 3; i < 5; i++ {
		wantSynapse500(t, invite(t, ts, fmt.Sprintf("s%d@example.org", i)))
	}
	// The limit is per sender: another inviter still has its burst.
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), outsiderToken, inviteReq(ts, "o@example.org")), 200, "")
	// Over HTTP, Sydent's own answer: 429 M_UNKNOWN, no advice.
	store := map[string]any{"medium": "email", "address": "h@example.org", "room_id": simulator.DefaultRoomID, "sender": simulator.DefaultUserID}
	res := call(t, ts, "POST", isBase+"/store-invite", simulator.DefaultIDAccessToken, store)
	wantStatus(t, res, 429, "M_UNKNOWN")
	if _, ok := res.body["retry_after_ms"]; ok || res.header.Get("Retry-After") != "" {
		t.Errorf("store-invite 429 gives advice: %s", res.raw)
	}
	st := sim.Stats()
	if st.StoreLimited != 3 || st.IdentityRefusals[simulator.RefusalStoreLimited] != 2 || st.InviteStatuses[500] != 2 ||
		st.StoreInvites != 4 || st.Emails["s3@example.org"] != 0 || st.Accepted != 4 {
		t.Errorf("stats %+v, want 3 refused stores (2 of them invites answered 500) and no email for them", st)
	}

	// Lifted at run time, the sender invites again.
	if err := sim.SetStoreLimit(simulator.StoreLimit{}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "s3@example.org"), 200, "")
	if err := sim.SetStoreLimit(simulator.StoreLimit{Burst: 1}); err == nil {
		t.Error("SetStoreLimit took a burst without an interval")
	}
}

func TestStoreLimitRefills(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{StoreLimit: simulator.StoreLimit{Burst: 1, Interval: 20 * time.Millisecond}})
	wantStatus(t, invite(t, ts, "r0@example.org"), 200, "")
	// One more store is allowed after an interval: poll, bounded in
	// count and time, until it is.
	ok := false
	for i := 0; i < 200 && !ok; i++ {
		ok = invite(t, ts, "r1@example.org").status == 200
		if !ok {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if !ok {
		t.Fatalf("no store allowed after the interval: %+v", sim.Stats())
	}
	if st := sim.Stats(); st.Emails["r1@example.org"] != 1 || st.ExtraEmails != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestStoreLimitEndpoint(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	wantStatus(t, call(t, ts, "POST", "/_sim/store_limit", "", map[string]any{"burst": 1, "interval": "1h"}), 200, "")
	wantStatus(t, invite(t, ts, "e0@example.org"), 200, "")
	wantSynapse500(t, invite(t, ts, "e1@example.org"))
	wantStatus(t, call(t, ts, "POST", "/_sim/store_limit", "", map[string]any{"burst": 1, "interval": "soon"}), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "POST", "/_sim/store_limit", "", map[string]any{"burst": 1}), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "POST", "/_sim/store_limit", "", map[string]any{"burst": 0}), 200, "")
	wantStatus(t, invite(t, ts, "e1@example.org"), 200, "")
	if st := sim.Stats(); st.StoreLimited != 1 {
		t.Errorf("stats %+v", st)
	}
}
