package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// funnelScale speeds Synapse's default limits up (rc_third_party_invite
// burst 5 then 0.0025/s becomes 10/s; rc_invites per issuer 1200/s).
const funnelScale = 4000

// funnelSim is the issue-25 setting: 60 addresses, 20 of them bound to
// accounts, 5 of those accounts already in the room.
func funnelSim() (simulator.Config, []string) {
	room := simulator.DefaultRoom()
	var bindings []simulator.Binding
	for i := range 20 {
		bindings = append(bindings, simulator.Binding{Address: fmt.Sprintf("member%d@example.org", i), UserID: fmt.Sprintf("@member%d:sim.local", i)})
		if i < 5 {
			room.Members[fmt.Sprintf("@member%d:sim.local", i)] = "join"
		}
	}
	list := append(addrs("member", 0, 20), addrs("guest", 0, 40)...)
	return simulator.Config{Rooms: []simulator.Room{room}, Bindings: bindings,
		RateLimit:    simulator.SynapseDefaultRateLimit(funnelScale),
		InviteLimits: simulator.SynapseDefaultInviteLimits(funnelScale)}, list
}

// Issue 25, done when (1): resolve-first invites the 15 bound addresses
// not in the room by Matrix ID, ends the 5 already joined with no request,
// and sends 40 3PID invites (40 emails, not 60). (2): after 10 of the 40
// bind their address and some invitees join, track makes status show the
// right registered and joined counts, and results shows joined_at_ms on
// exactly the invites whose people joined.
func TestResolveFirstAndTheFunnel(t *testing.T) {
	cfg, list := funnelSim()
	e := newCLIEnv(t, cfg)
	if r := mxinvite(t, e.enqueueArgs("onboard", e.file("onboard.txt", strings.Join(list, "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	wargs := join([]string{"worker", "--until-idle", "--log-level", "error", "--concurrency", "10", "--track-every", "0"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, wargs...); r.code != 0 {
		t.Fatalf("worker: exit %d %s", r.code, r.stderr)
	}
	recs := e.records("onboard")
	count := map[record.Delivery]int{}
	for i, a := range list {
		r := recs[a]
		if r.StatusCode != matrix.Success {
			t.Errorf("%s: %s %s", a, r.Status, r.Error)
		}
		count[r.Delivery]++
		user := fmt.Sprintf("@member%d:sim.local", i)
		switch {
		case i < 5:
			if r.Delivery != record.DeliveryAlreadyJoined || r.Requests != 0 || r.UserID != user || r.JoinedAtMS == 0 {
				t.Errorf("%s: %+v; want already_joined, no request", a, r)
			}
		case i < 20:
			if r.Delivery != record.DeliveryUserID || r.Requests != 1 || r.UserID != user {
				t.Errorf("%s: %+v; want invited by Matrix ID in one request", a, r)
			}
		default:
			if r.Delivery != record.Delivery3PID || r.UserID != "" {
				t.Errorf("%s: %+v; want a 3PID invite", a, r)
			}
		}
	}
	st := e.sim.Stats()
	if st.MatrixIDInvites != 15 || st.Accepted != 40 || st.BoundThreePIDInvites != 0 {
		t.Errorf("the server made %d invites by Matrix ID, %d 3PID invites (emails), %d bound 3PID invites; want 15, 40, 0",
			st.MatrixIDInvites, st.Accepted, st.BoundThreePIDInvites)
	}
	if st.RateLimitedByScope["third_party_invite"] > 0 && st.RateLimitedByScope["per_issuer"] > 0 {
		t.Logf("429s by scope: %v", st.RateLimitedByScope)
	}
	if count[record.Delivery3PID] != 40 || count[record.DeliveryUserID] != 15 || count[record.DeliveryAlreadyJoined] != 5 {
		t.Errorf("deliveries %v", count)
	}

	// 10 of the 40 register and bind their address; 6 of them join, and 4
	// of the 15 invited by Matrix ID join.
	joined := map[string]bool{}
	for i := range 10 {
		addr, user := fmt.Sprintf("guest%d@example.org", i), fmt.Sprintf("@guest%d:sim.local", i)
		if _, err := e.sim.Bind("email", addr, user); err != nil {
			t.Fatal(err)
		}
		if i < 6 {
			if err := e.sim.Join(simulator.DefaultRoomID, user); err != nil {
				t.Fatal(err)
			}
			joined[addr] = true
		}
	}
	for i := 5; i < 9; i++ {
		if err := e.sim.Join(simulator.DefaultRoomID, fmt.Sprintf("@member%d:sim.local", i)); err != nil {
			t.Fatal(err)
		}
		joined[fmt.Sprintf("member%d@example.org", i)] = true
	}
	for i := range 5 {
		joined[fmt.Sprintf("member%d@example.org", i)] = true // in the room before the campaign
	}
	targs := join([]string{"track", "--campaign", "onboard", "--log-level", "error"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, targs...); r.code != 0 || !strings.Contains(r.stdout, "funnel: sent 55, registered 10, joined 15") {
		t.Fatalf("track: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Again: nothing counted twice.
	if r := mxinvite(t, targs...); r.code != 0 {
		t.Fatalf("track again: exit %d %s", r.code, r.stderr)
	}
	r := mxinvite(t, join([]string{"status", "--campaign", "onboard", "--json"}, e.redisArgs())...)
	var status struct {
		Funnel record.Funnel `json:"funnel"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &status); err != nil || status.Funnel != (record.Funnel{Sent: 55, Registered: 10, Joined: 15}) {
		t.Fatalf("status --json funnel %+v (%v)\n%s", status.Funnel, err, r.stdout)
	}
	if r := mxinvite(t, join([]string{"status", "--campaign", "onboard"}, e.redisArgs())...); !strings.Contains(r.stdout,
		"funnel: sent 55 (by Matrix ID 15, by 3PID 40), registered 10, joined 15") || !strings.Contains(r.stdout, "already joined 5") {
		t.Errorf("status:\n%s", r.stdout)
	}

	all := resultsByAddress(t, mxinvite(t, join([]string{"results", "--campaign", "onboard"}, e.redisArgs())...).stdout)
	for a, res := range all {
		if (res.JoinedAtMS != 0) != joined[a] {
			t.Errorf("%s: joined_at_ms %d, joined %v", a, res.JoinedAtMS, joined[a])
		}
		registered := strings.HasPrefix(a, "guest") && res.UserID != ""
		if (res.RegisteredAtMS != 0) != registered {
			t.Errorf("%s: registered_at_ms %d, user %q", a, res.RegisteredAtMS, res.UserID)
		}
	}
	if got := resultsByAddress(t, mxinvite(t, join([]string{"results", "--campaign", "onboard", "--joined"}, e.redisArgs())...).stdout); len(got) != 15 {
		t.Errorf("results --joined: %d records, want 15", len(got))
	}
	if got := resultsByAddress(t, mxinvite(t, join([]string{"results", "--campaign", "onboard", "--pending"}, e.redisArgs())...).stdout); len(got) != 45 {
		t.Errorf("results --pending: %d records, want 45 (60 - 15 joined)", len(got))
	}
}

// With --lookup off every address is a 3PID invite, as before: Synapse
// then charges all 60 to rc_third_party_invite (its own lookup turns the
// 20 bound ones into invites of their accounts, 5 of them refused as
// already in the room).
func TestLookupOff(t *testing.T) {
	cfg, list := funnelSim()
	e := newCLIEnv(t, cfg)
	if r := mxinvite(t, e.enqueueArgs("plain", e.file("plain.txt", strings.Join(list, "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	wargs := join([]string{"worker", "--until-idle", "--log-level", "error", "--lookup", "off", "--track-every", "0"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, wargs...); r.code != 0 {
		t.Fatalf("worker: exit %d %s", r.code, r.stderr)
	}
	st := e.sim.Stats()
	if st.Lookups != 60 || st.MatrixIDInvites != 0 || st.BoundThreePIDInvites != 15 || st.Accepted != 40 {
		t.Errorf("stats: %d lookups (the homeserver's), %d by Matrix ID, %d bound 3PID, %d emails", st.Lookups, st.MatrixIDInvites, st.BoundThreePIDInvites, st.Accepted)
	}
	for _, r := range e.records("plain") {
		if r.Delivery != record.Delivery3PID {
			t.Errorf("%s: delivery %q", r.Address, r.Delivery)
		}
	}
	// track --lookup off sends the identity server nothing.
	if _, err := e.sim.Bind("email", "guest0@example.org", "@guest0:sim.local"); err != nil {
		t.Fatal(err)
	}
	before := e.sim.Stats().LookupAddresses
	targs := join([]string{"track", "--campaign", "plain", "--log-level", "error", "--lookup", "off"}, e.redisArgs(), e.profileArgs())
	if r := mxinvite(t, targs...); r.code != 0 || !strings.Contains(r.stdout, "registered 0") || e.sim.Stats().LookupAddresses != before {
		t.Errorf("track --lookup off: exit %d, %d addresses looked up\n%s%s", r.code, e.sim.Stats().LookupAddresses-before, r.stdout, r.stderr)
	}
	if r := mxinvite(t, append(wargs[:len(wargs):len(wargs)], "--lookup", "maybe")...); r.code != 2 || !strings.Contains(r.stderr, "--lookup") {
		t.Errorf("--lookup maybe: exit %d %s", r.code, r.stderr)
	}
}

func resultsByAddress(t *testing.T, jsonl string) map[string]record.Result {
	t.Helper()
	out := map[string]record.Result{}
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	for sc.Scan() {
		var r record.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("results line %q: %v", sc.Text(), err)
		}
		out[r.Address] = r
	}
	return out
}

// worker --track-every refreshes the funnel by itself while a campaign
// has invitees not joined yet.
func TestWorkerTracksEvery(t *testing.T) {
	cfg, list := funnelSim()
	e := newCLIEnv(t, cfg)
	if r := mxinvite(t, e.enqueueArgs("auto", e.file("auto.txt", strings.Join(list[:20], "\n")+"\n"))...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	stop := e.workerInBackground("--track-every", "200ms")
	e.waitFinal("auto", 20, time.Minute)
	for i := 5; i < 8; i++ {
		if err := e.sim.Join(simulator.DefaultRoomID, fmt.Sprintf("@member%d:sim.local", i)); err != nil {
			t.Fatal(err)
		}
	}
	store := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix})
	deadline := time.Now().Add(30 * time.Second)
	for {
		f, err := store.Funnel(context.Background(), "auto")
		if err != nil {
			t.Fatal(err)
		}
		if f == (record.Funnel{Sent: 15, Joined: 8}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("funnel %+v after 30 s; want sent 15, joined 5 + 3", f)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, stderr := stop(); code != 0 {
		t.Fatalf("worker: exit %d %s", code, stderr)
	}
}
