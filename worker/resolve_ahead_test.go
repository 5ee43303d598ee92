package worker

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// newLookaheadHandler is newFakeHandler with resolve-first on, against the
// simulator (homeserver and identity server), lookups cached for a
// millisecond.
func newLookaheadHandler(t *testing.T, cfg simulator.Config) (*Handler, *fakeLedger, *simulator.Server) {
	t.Helper()
	sim, ts := simtest.NewServer(t, cfg)
	c := Config{
		Profiles: []Profile{{Name: tasks.DefaultSender, HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken,
			IDServer: simtest.IDServer(ts), IDAccessToken: simulator.DefaultIDAccessToken}},
		Policy:         matrix.RetryPolicy{Timeouts: []time.Duration{2 * time.Second}, Waits: []time.Duration{100 * time.Millisecond}, MaxRetries: 1},
		InProcessWait:  time.Second,
		IdentityScheme: "http",
		LookupCacheTTL: time.Millisecond,
	}.WithDefaults()
	l := newFakeLedger()
	h := &Handler{cfg: c, ledger: l, senders: map[string]*sender{}, backoff: backoffSchedule(c.Policy.Waits, c.BackoffMax),
		resolver: matrix.NewResolver(c.LookupCacheTTL, 1), breaker: newBreaker(c.Breaker), stopping: make(chan struct{}),
		pauses: newPauseMemory()}
	for _, p := range c.Profiles {
		h.senders[p.Name] = newSender(p, c)
	}
	return h, l, sim
}

// simTask is an invite task into the simulator's room.
func simTask(t *testing.T, address string) (*asynq.Task, tasks.Invite) {
	t.Helper()
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: "spring", RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail, Address: address})
	if err != nil {
		t.Fatal(err)
	}
	task, err := inv.Task()
	if err != nil {
		t.Fatal(err)
	}
	return task, inv
}

// An unbound address is looked up before begin, and begin marks its
// request in flight on the 3PID gate: no gate call of its own. A bound one
// goes by Matrix ID through the gate of that path, as before.
func TestLookAheadLetsBeginSendUnboundAddresses(t *testing.T) {
	h, l, sim := newLookaheadHandler(t, simulator.Config{Bindings: []simulator.Binding{
		{Address: "bound@example.org", UserID: "@bound:sim.local"}}})
	free, _ := simTask(t, "free@example.org")
	if err := h.ProcessTask(t.Context(), free); err != nil {
		t.Fatal(err)
	}
	if len(l.begun) != 1 || !l.begun[0].Send || l.acquires != 0 {
		t.Fatalf("unbound: begin options %+v, %d gate calls; want Send and none", l.begun, l.acquires)
	}
	bound, _ := simTask(t, "bound@example.org")
	if err := h.ProcessTask(t.Context(), bound); err != nil {
		t.Fatal(err)
	}
	if len(l.begun) != 2 || l.begun[1].Send || l.acquires != 1 {
		t.Fatalf("bound: begin options %+v, %d gate calls; want no Send and one", l.begun, l.acquires)
	}
	st := sim.Stats()
	if len(l.finals) != 2 || l.finals[0].Delivery != record.Delivery3PID || l.finals[1].Delivery != record.DeliveryUserID {
		t.Fatalf("finals %+v", l.finals)
	}
	if st.Accepted != 1 || st.MatrixIDInvites != 1 || st.LookupAddresses != 2 {
		t.Fatalf("simulator: %d accepted by 3PID, %d by Matrix ID, %d addresses looked up; want 1, 1, 2",
			st.Accepted, st.MatrixIDInvites, st.LookupAddresses)
	}
}

// An invite held by a pause comes back often: after begin found its
// campaign paused, this process does not look its invites up ahead any
// more (each return would be a lookup), until a begin of that campaign
// goes through.
func TestLookAheadSkipsInvitesOfAPausedCampaign(t *testing.T) {
	h, l, sim := newLookaheadHandler(t, simulator.Config{})
	l.paused = map[string]bool{"spring": true}
	task, _ := simTask(t, "held@example.org")
	for range 3 {
		var hb *handBackError
		if err := h.ProcessTask(t.Context(), task); !errors.As(err, &hb) {
			t.Fatalf("held invite: %v, want a hand-back", err)
		}
		time.Sleep(5 * time.Millisecond) // past the lookup cache
	}
	if n := sim.Stats().LookupAddresses; n != 1 {
		t.Fatalf("%d lookups for 3 deliveries of a held invite; want 1 (the first, before the pause was known)", n)
	}
	l.paused = nil
	if err := h.ProcessTask(t.Context(), task); err != nil {
		t.Fatal(err)
	}
	other, _ := simTask(t, "next@example.org")
	if err := h.ProcessTask(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	last := l.begun[len(l.begun)-1]
	if n := sim.Stats().LookupAddresses; n != 3 || !last.Send {
		t.Fatalf("after the pause: %d lookups (want 3: one in the job, one ahead again), last begin %+v", n, last)
	}
}
