package worker

import (
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// A room the sender is not in, on a server that (like Dendrite) answers 500
// after the identity server has stored — and emailed — the invite: one
// request, one email, then a final ContentAccessError from the re-check.
func TestAmbiguous500InRoomSenderIsNotInIsNotResent(t *testing.T) {
	outside := simulator.Room{ID: "!elsewhere:sim.local", Members: map[string]string{"@someone:sim.local": "join"}}
	e, sim := newSimEnv(t, simulator.Config{
		Rooms: []simulator.Room{simulator.DefaultRoom(), outside},
		Rules: []simulator.Rule{{Pattern: "*", Status: 500, ErrCode: "M_UNKNOWN", AfterStore: true}},
	})
	inv := e.inviteTo(outside.ID, "judy@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.ContentAccessError, 1)
	st := sim.Stats()
	if st.InviteRequests != 1 || st.StoreInvites != 1 || r.Requests != 1 {
		t.Fatalf("server saw %d invite requests and %d store-invites, record says %d requests; want 1, 1, 1",
			st.InviteRequests, st.StoreInvites, r.Requests)
	}
}

// A flaky 500 on a room the sender may invite to: re-checked, retried, Success.
func TestFlaky500OnValidRoomIsRetried(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{
		Rules: []simulator.Rule{{Pattern: "*", Status: 500, ErrCode: "M_UNKNOWN", Times: 1}},
	})
	inv := e.inviteTo(simulator.DefaultRoomID, "ken@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	r := e.wantResult(inv, matrix.Success, 2)
	if st := sim.Stats(); st.InviteRequests != 2 || st.Accepted != 1 || r.Requests != 2 {
		t.Fatalf("server saw %d requests, accepted %d; record %d requests", st.InviteRequests, st.Accepted, r.Requests)
	}
}

// With FinalOn5xx an ambiguous 500 ends the invite: a missed invite rather
// than a possible second email.
func TestFinalOn5xxStopsAtFirstServerError(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{
		Rules: []simulator.Rule{{Pattern: "*", Status: 500, ErrCode: "M_UNKNOWN", Times: 1}},
	}, func(c *Config) { c.FinalOn5xx = true })
	inv := e.inviteTo(simulator.DefaultRoomID, "leo@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)

	e.wantResult(inv, matrix.NetworkError, 1)
	if n := sim.Stats().InviteRequests; n != 1 {
		t.Fatalf("server saw %d invite requests, want 1", n)
	}
}

// The idempotent PUT form is used where the server has it: a lost answer
// (here: a 5xx after the invite was stored, which Synapse-like servers
// cache as the stored success for PUT) does not invite twice.
func TestTxnPutUsedWhereSupported(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{})
	inv := e.inviteTo(simulator.DefaultRoomID, "mia@example.org")
	e.enqueue(inv, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	e.wantResult(inv, matrix.Success, 1)
	acc := sim.Accepted()
	if len(acc) != 1 || acc[0].Method != "PUT" || acc[0].TxnID == "" {
		t.Fatalf("accepted %+v; want one PUT with a txnId", acc)
	}
}

// A server without the PUT form (404 M_UNRECOGNIZED): POST in the same
// attempt, and straight to POST afterwards.
func TestPostAfterUnrecognizedPut(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{DisableTxnPUT: true}, func(c *Config) { c.Concurrency = 1 })
	a, b := e.inviteTo(simulator.DefaultRoomID, "ned@example.org"), e.inviteTo(simulator.DefaultRoomID, "olga@example.org")
	e.enqueue(a, producer.Options{})
	e.enqueue(b, producer.Options{})
	e.runUntilIdle(20 * time.Second)
	ra, rb := e.wantResult(a, matrix.Success, 1), e.wantResult(b, matrix.Success, 1)
	for _, acc := range sim.Accepted() {
		if acc.Method != "POST" {
			t.Fatalf("accepted %+v; want POST", acc)
		}
	}
	// One PUT in all (then remembered), two POSTs.
	req := sim.Requests()
	if req["invite_txn"] != 1 || req["invite"] != 2 || ra.Requests+rb.Requests != 3 {
		t.Fatalf("server saw %d PUTs and %d POSTs, records say %d+%d requests; want 1, 2, 3",
			req["invite_txn"], req["invite"], ra.Requests, rb.Requests)
	}
}
