package worker

import (
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// storeLimit is Sydent's per-sender email limit seen through Synapse:
// burst invites, then one per interval; a limited invite is answered 500
// M_UNKNOWN (and nothing is stored). accepted counts stored invites per
// address.
type storeLimit struct {
	mu       sync.Mutex
	tokens   float64
	burst    float64
	interval time.Duration
	last     time.Time
	accepted map[string]int
	refused  int
}

func newStoreLimit(burst int, interval time.Duration) *storeLimit {
	return &storeLimit{tokens: float64(burst), burst: float64(burst), interval: interval, last: time.Now(), accepted: map[string]int{}}
}

func (l *storeLimit) decide(address string) answer {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.interval))
	l.last = now
	if l.tokens < 1 {
		l.refused++
		return answer{status: 500, body: `{"errcode":"M_UNKNOWN","error":"Internal server error"}`}
	}
	l.tokens--
	l.accepted[address]++
	return okAnswer
}

func TestSenderBackoffRidesAStoreLimit(t *testing.T) {
	hs := newSenderHS(t, testToken)
	limit := newStoreLimit(5, 500*time.Millisecond)
	hs.setDecide(limit.decide)
	e := newEnv(t, hs.URL) // retry waits 100, 200, 300 ms
	invs := e.enqueueN(40)
	e.runUntilIdle(90 * time.Second)
	for _, inv := range invs {
		if r := e.result(inv); r.StatusCode != matrix.Success {
			t.Fatalf("%s ended %s after %d requests (%s)", inv.Address, r.Status, r.Requests, r.Error)
		}
	}
	limit.mu.Lock()
	defer limit.mu.Unlock()
	for addr, n := range limit.accepted {
		if n != 1 {
			t.Fatalf("%s stored %d times", addr, n)
		}
	}
	total := hs.invitesTotal()
	t.Logf("%d requests, %d answered 500 (%.1f%%)", total, limit.refused, 100*float64(limit.refused)/float64(total))
	if limit.refused >= total/2 {
		t.Fatalf("%d of %d requests answered 500: the sender did not back off", limit.refused, total)
	}
}

func TestOneAddressAlways500AmongSuccessesEndsAlone(t *testing.T) {
	hs := newSenderHS(t, testToken)
	hs.setDecide(onlyAddress("user7@example.org", answer{status: 500, body: `{"errcode":"M_UNKNOWN","error":"Internal server error"}`}))
	e := newEnv(t, hs.URL)
	invs := e.enqueueN(20)
	e.runUntilIdle(60 * time.Second)
	r := e.wantResult(invs[7], matrix.NetworkError, 4)
	if r.Requests != 4 || hs.invitesTo(invs[7].Address) != 4 {
		t.Fatalf("the failing address: %d requests recorded, %d seen; want 4", r.Requests, hs.invitesTo(invs[7].Address))
	}
	for i, inv := range invs {
		if i != 7 {
			e.wantResult(inv, matrix.Success, 1)
		}
	}
}

func TestBackoffSchedule(t *testing.T) {
	s := backoffSchedule([]time.Duration{2 * time.Second, 5 * time.Second, 30 * time.Second}, 10*time.Minute)
	want := []time.Duration{2 * time.Second, 5 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
		4 * time.Minute, 8 * time.Minute, 10 * time.Minute}
	if len(s) != len(want) {
		t.Fatalf("schedule %v; want %v", s, want)
	}
	for i := range want {
		if s[i] != want[i] {
			t.Fatalf("schedule %v; want %v", s, want)
		}
	}
	if s := backoffSchedule([]time.Duration{time.Hour}, time.Minute); len(s) != 1 || s[0] != time.Minute {
		t.Fatalf("capped schedule %v; want [1m]", s)
	}
}

// TestSenderBackoffWithTheSimulator is the same against the simulator's
// Sydent limit seen through Synapse (a limited store-invite is a 500 and
// no email).
func TestSenderBackoffWithTheSimulator(t *testing.T) {
	e, sim := newSimEnv(t, simulator.Config{StoreLimit: simulator.StoreLimit{Burst: 5, Interval: 500 * time.Millisecond}})
	invs := e.enqueueTo(simulator.DefaultRoomID, "store-", 40)
	e.runUntilIdle(90 * time.Second)
	for _, inv := range invs {
		if r := e.result(inv); r.StatusCode != matrix.Success {
			t.Fatalf("%s ended %s after %d requests (%s)", inv.Address, r.Status, r.Requests, r.Error)
		}
	}
	st := sim.Stats()
	if st.Accepted != 40 || st.Duplicates != 0 || st.ExtraEmails != 0 {
		t.Fatalf("%d accepted, %d duplicates, %d extra emails; want 40, 0, 0", st.Accepted, st.Duplicates, st.ExtraEmails)
	}
	refused := st.IdentityRefusals[simulator.RefusalStoreLimited]
	t.Logf("%d requests, %d answered 500 (%.1f%%)", st.InviteRequests, refused, 100*float64(refused)/float64(st.InviteRequests))
	if refused*2 >= st.InviteRequests {
		t.Fatalf("%d of %d requests answered 500: the sender did not back off", refused, st.InviteRequests)
	}
}
