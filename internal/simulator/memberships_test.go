package simulator_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// members lists the state keys of GET /members?query in the default room.
func members(t *testing.T, ts *httptest.Server, query string) []string {
	t.Helper()
	res := call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/members"+query, simulator.DefaultAccessToken, nil)
	if res.status != 200 {
		t.Fatalf("members%s: %d %s", query, res.status, res.raw)
	}
	chunk, _ := res.body["chunk"].([]any)
	var out []string
	for _, ev := range chunk {
		e, _ := ev.(map[string]any)
		if e["type"] != "m.room.member" {
			t.Errorf("chunk has %v", e["type"])
		}
		out = append(out, e["state_key"].(string))
	}
	sort.Strings(out)
	return out
}

func joinedMembers(t *testing.T, ts *httptest.Server) map[string]any {
	t.Helper()
	res := call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/joined_members", simulator.DefaultAccessToken, nil)
	joined, _ := res.body["joined"].(map[string]any)
	return joined
}

func TestMembershipsFollowInvitesAndJoins(t *testing.T) {
	cfg := testConfig()
	cfg.Rooms[0].Members["@gone:sim.local"] = "leave"
	cfg.Rooms[0].Members["@evil:sim.local"] = "ban"
	sim, ts := simtest.NewServer(t, cfg)
	tok := simulator.DefaultAccessToken
	wantStatus(t, inviteUser(t, ts, tok, simulator.DefaultRoomID, "@a:sim.local"), 200, "")
	wantStatus(t, inviteUser(t, ts, tok, simulator.DefaultRoomID, "@b:sim.local"), 200, "")
	if got := members(t, ts, "?membership=invite"); len(got) != 2 || got[0] != "@a:sim.local" || got[1] != "@b:sim.local" {
		t.Errorf("invited %v", got)
	}
	if err := sim.Join(simulator.DefaultRoomID, "@a:sim.local"); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, ts, "POST", "/_sim/join", "", map[string]string{"room_id": simulator.DefaultRoomID, "user_id": "@c:sim.local"}), 200, "")
	joined := joinedMembers(t, ts)
	for _, u := range []string{simulator.DefaultUserID, memberID, "@a:sim.local", "@c:sim.local"} {
		if _, ok := joined[u]; !ok {
			t.Errorf("joined_members lacks %s: %v", u, joined)
		}
	}
	if len(joined) != 4 {
		t.Errorf("joined_members %v, want 4", joined)
	}
	if got := members(t, ts, "?membership=invite"); len(got) != 1 || got[0] != "@b:sim.local" {
		t.Errorf("invited after the join %v", got)
	}
	if got := members(t, ts, "?membership=ban"); len(got) != 1 || got[0] != "@evil:sim.local" {
		t.Errorf("banned %v", got)
	}
	if got := members(t, ts, "?membership=leave"); len(got) != 1 || got[0] != "@gone:sim.local" {
		t.Errorf("left %v", got)
	}
	if got := members(t, ts, "?not_membership=join"); len(got) != 3 {
		t.Errorf("not joined %v", got)
	}
	if got := members(t, ts, ""); len(got) != 7 {
		t.Errorf("all members %v", got)
	}
	wantStatus(t, call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/members?membership=joined", tok, nil), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/members", outsiderToken, nil), 403, "M_FORBIDDEN")
	// The member state event says who invited and what the membership is.
	res := call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state/m.room.member/"+encodedRoom("@b:sim.local"), tok, nil)
	if res.status != 200 || res.body["membership"] != "invite" {
		t.Errorf("@b's member event: %d %s", res.status, res.raw)
	}
	res = call(t, ts, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/state", tok, nil)
	var state []map[string]any
	if err := json.Unmarshal(res.raw, &state); err != nil {
		t.Fatalf("state: %v", err)
	}
	var sender any
	for _, e := range state {
		if e["type"] == "m.room.member" && e["state_key"] == "@b:sim.local" {
			sender = e["sender"]
		}
	}
	if sender != simulator.DefaultUserID {
		t.Errorf("@b's invite sent by %v, want the inviter", sender)
	}
	if st := sim.Stats(); st.Joins != 2 || st.MatrixIDInvites != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestJoinErrorsAndSetMembership(t *testing.T) {
	cfg := testConfig()
	cfg.Rooms[0].Members["@evil:sim.local"] = "ban"
	sim, ts := simtest.NewServer(t, cfg)
	if err := sim.Join(simulator.DefaultRoomID, "@evil:sim.local"); err == nil {
		t.Error("a banned user joined")
	}
	if err := sim.Join("!nope:sim.local", "@a:sim.local"); err == nil {
		t.Error("joined a room that does not exist")
	}
	wantStatus(t, call(t, ts, "POST", "/_sim/join", "", map[string]string{"room_id": simulator.DefaultRoomID, "user_id": "bob"}), 400, "M_INVALID_PARAM")
	wantStatus(t, call(t, ts, "POST", "/_sim/membership", "", map[string]string{
		"room_id": simulator.DefaultRoomID, "user_id": "@evil:sim.local", "membership": "leave"}), 200, "")
	if err := sim.Join(simulator.DefaultRoomID, "@evil:sim.local"); err != nil {
		t.Errorf("Join after unban: %v", err)
	}
	if err := sim.SetMembership(simulator.DefaultRoomID, "@x:sim.local", "joined"); err == nil {
		t.Error("SetMembership accepted \"joined\"")
	}
	if m, ok := sim.Membership(simulator.DefaultRoomID, "@evil:sim.local"); !ok || m != "join" {
		t.Errorf("Membership = %q %v", m, ok)
	}
	if _, ok := sim.Membership("!nope:sim.local", "@x:sim.local"); ok {
		t.Error("Membership of a room that does not exist")
	}
}

func TestMembershipsConcurrent(t *testing.T) {
	sim, ts := simtest.NewServer(t, testConfig())
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(3)
		user := fmt.Sprintf("@c%d:sim.local", i)
		addr := fmt.Sprintf("c%d@example.org", i)
		go func() {
			defer wg.Done()
			if _, err := send(ts, 5*time.Second, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, map[string]string{"user_id": user}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := send(ts, 5*time.Second, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, inviteReq(ts, addr)); err != nil {
				t.Error(err)
			}
			if _, err := sim.Bind("email", addr, "@b"+user[1:]); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if _, err := send(ts, 5*time.Second, "GET", roomBase+encodedRoom(simulator.DefaultRoomID)+"/members", simulator.DefaultAccessToken, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st := sim.Stats()
	if st.MatrixIDInvites != 20 || st.Accepted != 20 || st.OnBindInvites != 20 || st.Binds != 20 {
		t.Errorf("stats %+v, want 20 of each", st)
	}
	if got := members(t, ts, "?membership=invite"); len(got) != 40 {
		t.Errorf("%d invited, want 40", len(got))
	}
}
