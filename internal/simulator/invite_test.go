package simulator_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestInviteAcceptedAndRecorded(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	res := invite(t, ts, "alice@example.org")
	if res.status != 200 || string(res.raw) != "{}" {
		t.Fatalf("got %d %s, want 200 {}", res.status, res.raw)
	}
	acc := sim.Accepted()
	if len(acc) != 1 {
		t.Fatalf("accepted %d invites, want 1", len(acc))
	}
	got := acc[0]
	if got.RoomID != simulator.DefaultRoomID || got.Medium != "email" || got.Address != "alice@example.org" ||
		got.Sender != simulator.DefaultUserID || got.Method != "POST" || got.IDServer != simtest.IDServer(ts) ||
		got.Duplicate || got.Time.IsZero() {
		t.Errorf("recorded %+v", got)
	}
	st := sim.Stats()
	if st.InviteRequests != 1 || st.Accepted != 1 || st.StoreInvites != 1 || st.Lookups != 1 ||
		st.Emails["alice@example.org"] != 1 || st.InviteStatuses[200] != 1 || st.Requests["invite"] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestInviteDuplicateCounted(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	invite(t, ts, "bob@example.org")
	invite(t, ts, "Bob@Example.org") // the same invitee: emails are case-insensitive
	invite(t, ts, "carol@example.org")
	st := sim.Stats()
	if st.Accepted != 3 || st.Duplicates != 1 || st.ExtraEmails != 1 || st.Emails["bob@example.org"] != 2 {
		t.Errorf("stats %+v, want 3 accepted, 1 duplicate, 1 extra email", st)
	}
	if acc := sim.Accepted(); !acc[1].Duplicate || acc[2].Duplicate {
		t.Errorf("duplicate flags %v %v, want true false", acc[1].Duplicate, acc[2].Duplicate)
	}
}

func TestInvitePUTReplaysTransaction(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	path := txnPath(simulator.DefaultRoomID, "txn1")
	for i := 0; i < 2; i++ {
		wantStatus(t, call(t, ts, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "dan@example.org")), 200, "")
	}
	st := sim.Stats()
	if st.Accepted != 1 || st.StoreInvites != 1 || st.TxnCacheHits != 1 || st.Requests["invite_txn"] != 2 {
		t.Errorf("stats %+v, want one invite and one cache hit", st)
	}
	if acc := sim.Accepted(); acc[0].Method != "PUT" || acc[0].TxnID != "txn1" {
		t.Errorf("recorded %+v", acc[0])
	}
	// Another transaction is another invite.
	call(t, ts, "PUT", txnPath(simulator.DefaultRoomID, "txn2"), simulator.DefaultAccessToken, inviteReq(ts, "dan@example.org"))
	if st := sim.Stats(); st.Accepted != 2 || st.Duplicates != 1 {
		t.Errorf("stats %+v, want a second, duplicate acceptance", st)
	}
}

func TestInvitePUTTransactionExpires(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{TxnTTL: 30 * time.Millisecond})
	path := txnPath(simulator.DefaultRoomID, "old")
	call(t, ts, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "ttl@example.org"))
	time.Sleep(40 * time.Millisecond)
	call(t, ts, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "ttl@example.org"))
	if st := sim.Stats(); st.Accepted != 2 || st.TxnCacheHits != 0 {
		t.Errorf("stats %+v, want the expired transaction to run again", st)
	}
}

func TestInvitePUTConcurrentSameTransaction(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	path := txnPath(simulator.DefaultRoomID, "same")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := send(ts, 5*time.Second, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "eve@example.org"))
			if err != nil || res.status != 200 {
				t.Errorf("PUT: %v %d", err, res.status)
			}
		}()
	}
	wg.Wait()
	if st := sim.Stats(); st.Accepted != 1 || st.TxnCacheHits != 19 {
		t.Errorf("stats %+v, want 1 accepted and 19 cache hits", st)
	}
}

func TestInvitePUTDisabled(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{DisableTxnPUT: true})
	res := call(t, ts, "PUT", txnPath(simulator.DefaultRoomID, "t"), simulator.DefaultAccessToken, inviteReq(ts, "f@example.org"))
	wantStatus(t, res, 404, "M_UNRECOGNIZED")
	if st := sim.Stats(); st.Accepted != 0 || st.StoreInvites != 0 {
		t.Errorf("stats %+v, want nothing done", st)
	}
	wantStatus(t, invite(t, ts, "f@example.org"), 200, "") // POST still works
}

func TestInviteBadRequests(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{TrustedIDServers: []string{"id.example.org"}})
	good := func(edit func(map[string]string)) map[string]string {
		b := inviteReq(ts, "g@example.org")
		b["id_server"] = "id.example.org"
		edit(b)
		return b
	}
	cases := []struct {
		name    string
		body    any
		status  int
		errcode string
	}{
		{"not JSON", "{nope", 400, "M_NOT_JSON"},
		{"not an object", "[1]", 400, "M_BAD_JSON"},
		{"wrong type", `{"address": 5}`, 400, "M_BAD_JSON"},
		{"no id_server", good(func(b map[string]string) { delete(b, "id_server") }), 400, "M_MISSING_PARAM"},
		{"no id_access_token", good(func(b map[string]string) { delete(b, "id_access_token") }), 400, "M_MISSING_PARAM"},
		{"no address", good(func(b map[string]string) { delete(b, "address") }), 400, "M_MISSING_PARAM"},
		{"bad medium", good(func(b map[string]string) { b["medium"] = "fax" }), 400, "M_INVALID_PARAM"},
		{"untrusted", good(func(b map[string]string) { b["id_server"] = "evil.example" }), 400, "M_SERVER_NOT_TRUSTED"},
		{"too large", `{"address":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "M_TOO_LARGE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, c.body), c.status, c.errcode)
		})
	}
	if st := sim.Stats(); st.StoreInvites != 0 || st.Accepted != 0 {
		t.Errorf("stats %+v: a bad request reached the identity server", st)
	}
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, good(func(map[string]string) {})), 200, "")
}

func TestInviteAuth(t *testing.T) {
	_, ts := simtest.NewServer(t, simulator.Config{})
	path := invitePath(simulator.DefaultRoomID)
	wantStatus(t, call(t, ts, "POST", path, "", inviteReq(ts, "h@example.org")), 401, "M_MISSING_TOKEN")
	res := call(t, ts, "POST", path, "wrong", inviteReq(ts, "h@example.org"))
	wantStatus(t, res, 401, "M_UNKNOWN_TOKEN")
	if res.body["soft_logout"] != false {
		t.Errorf("soft_logout = %v, want false", res.body["soft_logout"])
	}
	// The deprecated query parameter still works on Synapse.
	wantStatus(t, call(t, ts, "POST", path+"?access_token="+simulator.DefaultAccessToken, "", inviteReq(ts, "h@example.org")), 200, "")
}

func TestInviteRoomChecksComeAfterTheEmail(t *testing.T) {
	cases := []struct {
		name, token, room string
		checkFirst        bool
		emails            int64
		msg               string
	}{
		{"not joined", outsiderToken, simulator.DefaultRoomID, false, 1, "not in room"},
		{"unknown room", simulator.DefaultAccessToken, "!nope:sim.local", false, 1, "Unknown room"},
		{"alias instead of ID", simulator.DefaultAccessToken, simulator.DefaultRoomAlias, false, 1, "Unknown room"},
		{"power level too low", memberToken, simulator.DefaultRoomID, false, 1, "permission"},
		{"not joined, room checked first", outsiderToken, simulator.DefaultRoomID, true, 0, "not in room"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.CheckRoomFirst = c.checkFirst
			sim, ts := simtest.NewServer(t, cfg)
			res := call(t, ts, "POST", invitePath(c.room), c.token, inviteReq(ts, "i@example.org"))
			wantStatus(t, res, 403, "M_FORBIDDEN")
			if msg, _ := res.body["error"].(string); !strings.Contains(msg, c.msg) {
				t.Errorf("error %q, want it to mention %q", msg, c.msg)
			}
			if st := sim.Stats(); st.StoreInvites != c.emails || st.Accepted != 0 {
				t.Errorf("stats %+v, want %d emails and nothing accepted", st, c.emails)
			}
		})
	}
}

func TestInviteBadIdentityToken(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	body := inviteReq(ts, "j@example.org")
	body["id_access_token"] = "not-registered"
	wantStatus(t, call(t, ts, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, body), 500, "M_UNKNOWN")
	if st := sim.Stats(); st.StoreInvites != 0 || st.ServerErrors != 1 {
		t.Errorf("stats %+v, want no email and one 5xx", st)
	}
}
