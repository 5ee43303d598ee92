package simulator_test

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// Accounts that only receive invites: bound, with no access token.
const (
	boundAddr = "known@example.org"
	boundID   = "@known:sim.local"
)

// boundConfig is testConfig with boundAddr bound to boundID, written in
// another case to show that bindings are canonical.
func boundConfig() simulator.Config {
	cfg := testConfig()
	cfg.Bindings = []simulator.Binding{{Address: "Known@EXAMPLE.org", UserID: boundID}}
	return cfg
}

// lookupReq is a v2 lookup body for the given addresses (email).
func lookupReq(addresses ...string) map[string]any {
	var hashes []string
	for _, a := range addresses {
		hashes = append(hashes, simulator.HashAddress(a, "email", simulator.DefaultLookupPepper))
	}
	return map[string]any{"algorithm": "sha256", "pepper": simulator.DefaultLookupPepper, "addresses": hashes}
}

// membership reads userID's membership in the default room.
func membership(t *testing.T, sim *simulator.Server, userID string) string {
	t.Helper()
	m, ok := sim.Membership(simulator.DefaultRoomID, userID)
	if !ok {
		t.Fatal("the default room is gone")
	}
	return m
}

func TestLookupAnswersBoundAddresses(t *testing.T) {
	sim, ts := simtest.NewServer(t, boundConfig())
	res := call(t, ts, "POST", isBase+"/lookup", simulator.DefaultIDAccessToken, lookupReq(boundAddr, "stranger@example.org"))
	m, _ := res.body["mappings"].(map[string]any)
	hash := simulator.HashAddress(boundAddr, "email", simulator.DefaultLookupPepper)
	if res.status != 200 || len(m) != 1 || m[hash] != boundID {
		t.Fatalf("lookup: %d %s, want only %s mapped to %s", res.status, res.raw, hash, boundID)
	}
	st := sim.Stats()
	if st.Lookups != 1 || st.LookupAddresses != 2 || st.LookupMatches != 1 || st.Requests["is_lookup"] != 1 {
		t.Errorf("stats %+v, want 1 lookup of 2 addresses, 1 match", st)
	}
}

func TestThreePIDInviteOfBoundAddressInvitesTheAccount(t *testing.T) {
	sim, ts := simtest.NewServer(t, boundConfig())
	wantStatus(t, invite(t, ts, "KNOWN@example.org"), 200, "")
	if m := membership(t, sim, boundID); m != "invite" {
		t.Errorf("membership %q, want invite", m)
	}
	st := sim.Stats()
	if st.BoundThreePIDInvites != 1 || st.StoreInvites != 0 || st.Accepted != 0 || st.Lookups != 1 || st.MatrixIDInvites != 0 {
		t.Errorf("stats %+v, want one account invite, no email, no stored 3PID invite", st)
	}
	// Invited again by the same sender: Synapse's duplicate, 200, no new event.
	wantStatus(t, invite(t, ts, boundAddr), 200, "")
	if st := sim.Stats(); st.RepeatedMemberInvites != 1 || st.BoundThreePIDInvites != 1 {
		t.Errorf("stats %+v, want the repeat counted apart", st)
	}
	// Once joined, a 3PID invite of the address is refused like Synapse's.
	if err := sim.Join(simulator.DefaultRoomID, boundID); err != nil {
		t.Fatal(err)
	}
	res := invite(t, ts, boundAddr)
	wantStatus(t, res, 403, "M_FORBIDDEN")
	if res.body["error"] != boundID+" is already in the room." {
		t.Errorf("error %q", res.body["error"])
	}
	if st := sim.Stats(); st.InviteeRefusals[simulator.InviteeAlreadyJoined] != 1 || st.StoreInvites != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestBoundInviteChargesThirdPartyLimitFirst(t *testing.T) {
	cfg := boundConfig()
	cfg.RateLimit = simulator.RateLimit{PerSecond: 0.001, Burst: 1}
	cfg.InviteLimits = simulator.InviteLimits{PerIssuer: simulator.RateLimit{PerSecond: 0.001, Burst: 1}}
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, boundAddr), 200, "")
	// The second bound invite finds the 3PID bucket empty before rc_invites.
	wantStatus(t, invite(t, ts, "other@example.org"), 429, "M_LIMIT_EXCEEDED")
	st := sim.Stats()
	if st.RateLimitedByScope[simulator.ScopeThirdPartyInvite] != 1 || st.RateLimitedByScope[simulator.ScopePerIssuer] != 0 {
		t.Errorf("429s by scope %v, want the 3PID limit's", st.RateLimitedByScope)
	}
}

func TestBoundInviteRefusedByItsAccountsLimit(t *testing.T) {
	cfg := boundConfig()
	cfg.InviteLimits = simulator.InviteLimits{PerUser: simulator.RateLimit{PerSecond: 0.001, Burst: 1}}
	cfg.Rooms = append(cfg.Rooms, simulator.Room{ID: "!second:sim.local", Members: map[string]string{simulator.DefaultUserID: "join"}})
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, boundAddr), 200, "")
	res := call(t, ts, "POST", invitePath("!second:sim.local"), simulator.DefaultAccessToken, inviteReq(ts, boundAddr))
	wantStatus(t, res, 429, "M_LIMIT_EXCEEDED")
	if ms, _ := res.body["retry_after_ms"].(float64); ms < 900_000 {
		t.Errorf("retry_after_ms %v, want the invitee's long advice", res.body["retry_after_ms"])
	}
	wantStatus(t, invite(t, ts, "plain@example.org"), 200, "") // the sender's other invites pass
	// Coming back at once for the same account is early in its scope only.
	wantStatus(t, call(t, ts, "POST", invitePath("!second:sim.local"), simulator.DefaultAccessToken, inviteReq(ts, boundAddr)), 429, "M_LIMIT_EXCEEDED")
	st := sim.Stats()
	if st.EarlyByScope[simulator.ScopePerUser] != 1 || st.EarlyRequests != 0 || st.RateLimitedByScope[simulator.ScopePerUser] != 2 {
		t.Errorf("stats %+v, want one early per_user request", st)
	}
}

func TestStoreInviteOfBoundAddress(t *testing.T) {
	_, ts := simtest.NewServer(t, boundConfig())
	res := call(t, ts, "POST", isBase+"/store-invite", simulator.DefaultIDAccessToken, map[string]string{
		"medium": "email", "address": boundAddr, "room_id": simulator.DefaultRoomID, "sender": simulator.DefaultUserID})
	wantStatus(t, res, 400, "M_THREEPID_IN_USE")
	if res.body["mxid"] != boundID {
		t.Errorf("mxid %v, want %s", res.body["mxid"], boundID)
	}
}

func TestBindTurnsPendingInvitesIntoMemberships(t *testing.T) {
	cfg := testConfig()
	cfg.Rooms = append(cfg.Rooms, simulator.Room{ID: "!second:sim.local", Members: map[string]string{
		simulator.DefaultUserID: "join", "@late:sim.local": "ban"}})
	sim, ts := simtest.NewServer(t, cfg)
	wantStatus(t, invite(t, ts, "Late@example.org"), 200, "")
	wantStatus(t, call(t, ts, "POST", invitePath("!second:sim.local"), simulator.DefaultAccessToken, inviteReq(ts, "late@example.org")), 200, "")
	wantStatus(t, invite(t, ts, "other@example.org"), 200, "")
	n, err := sim.Bind("", "LATE@example.org", "@late:sim.local")
	if err != nil || n != 1 {
		t.Fatalf("Bind = %d, %v; want 1 membership (the banned room left out)", n, err)
	}
	if m := membership(t, sim, "@late:sim.local"); m != "invite" {
		t.Errorf("membership %q, want invite", m)
	}
	if m, _ := sim.Membership("!second:sim.local", "@late:sim.local"); m != "ban" {
		t.Errorf("banned account's membership %q, want ban kept", m)
	}
	// The invite event is the inviter's and carries third_party_invite.
	res := call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state/m.room.member/"+encodedRoom("@late:sim.local"), simulator.DefaultAccessToken, nil)
	tpi, _ := res.body["third_party_invite"].(map[string]any)
	signed, _ := tpi["signed"].(map[string]any)
	if res.body["membership"] != "invite" || signed["mxid"] != "@late:sim.local" || signed["token"] == "" || tpi["display_name"] == "" {
		t.Errorf("member event %s", res.raw)
	}
	st := sim.Stats()
	if st.OnBindInvites != 1 || st.Binds != 1 || st.StoreInvites != 3 {
		t.Errorf("stats %+v, want 1 onbind invite after 1 bind", st)
	}
	// Pending invites are used once; a later 3PID invite finds the account.
	if n, err := sim.Bind("email", "late@example.org", "@late:sim.local"); err != nil || n != 0 {
		t.Errorf("second Bind = %d, %v; want 0", n, err)
	}
	wantStatus(t, invite(t, ts, "late@example.org"), 200, "")
	if st := sim.Stats(); st.StoreInvites != 3 || st.RepeatedMemberInvites != 0 || st.BoundThreePIDInvites != 1 {
		t.Errorf("stats %+v, want a new account invite (its content differs from the onbind event), no email", st)
	}
}

func TestBindControlAndErrors(t *testing.T) {
	sim, ts := simtest.NewServer(t, testConfig())
	wantStatus(t, invite(t, ts, "ctl@example.org"), 200, "")
	res := call(t, ts, "POST", "/_sim/bind", "", map[string]string{"address": "ctl@example.org", "user_id": "@ctl:sim.local"})
	if res.status != 200 || res.body["invites"] != float64(1) {
		t.Fatalf("/_sim/bind: %d %s", res.status, res.raw)
	}
	if m := membership(t, sim, "@ctl:sim.local"); m != "invite" {
		t.Errorf("membership %q", m)
	}
	for _, body := range []map[string]string{
		{"address": "x@example.org", "user_id": "ctl"},
		{"address": "", "user_id": "@ctl:sim.local"},
		{"medium": "fax", "address": "x", "user_id": "@ctl:sim.local"},
	} {
		res := call(t, ts, "POST", "/_sim/bind", "", body)
		wantStatus(t, res, 400, "M_INVALID_PARAM")
		if msg, _ := res.body["error"].(string); !strings.Contains(msg, "Bind.") {
			t.Errorf("error %q does not name the field", msg)
		}
	}
}

func TestConfigBindingsValidated(t *testing.T) {
	err := simulator.Config{Bindings: []simulator.Binding{
		{Address: "a@example.org", UserID: "@a:sim.local"},
		{Address: "A@example.org", UserID: "@b:sim.local"},
		{Medium: "fax", Address: "1", UserID: "nobody"},
	}}.Validate()
	for _, want := range []string{"Bindings[1].Address", "bound already", "Bindings[2].Medium", "Bindings[2].UserID"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to mention %q", err, want)
		}
	}
}

func TestBoundInviteeWhoBlocksInvites(t *testing.T) {
	cfg := boundConfig()
	cfg.Bindings[0].BlocksInvites = true
	cfg.InviteBlockedCode = simulator.InviteBlockedUnstable
	sim, ts := simtest.NewServer(t, cfg)
	res := invite(t, ts, boundAddr)
	wantStatus(t, res, 403, simulator.InviteBlockedUnstable)
	st := sim.Stats()
	if st.InviteeRefusals[simulator.InviteeBlocked] != 1 || st.StoreInvites != 0 || membership(t, sim, boundID) != "" {
		t.Errorf("stats %+v, want the refusal, no email, no membership", st)
	}
	if err := (simulator.Config{InviteBlockedCode: "M_NOPE"}).Validate(); err == nil || !strings.Contains(err.Error(), "InviteBlockedCode") {
		t.Errorf("Validate: %v", err)
	}
}
