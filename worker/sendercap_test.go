package worker

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// inFlight counts the invite requests a handler is serving at once.
type inFlight struct {
	mu        sync.Mutex
	now, peak int
	next      http.Handler
}

func (f *inFlight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	invite := strings.Contains(r.URL.Path, "/invite")
	if invite {
		f.mu.Lock()
		f.now++
		f.peak = max(f.peak, f.now)
		f.mu.Unlock()
		defer func() { f.mu.Lock(); f.now--; f.mu.Unlock() }()
	}
	f.next.ServeHTTP(w, r)
}

// TestSenderConcurrencyCap: a worker with room for 4 invites sends at most
// MaxConcurrency requests of a capped sender at once, and still sends all.
func TestSenderConcurrencyCap(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Faults: simulator.Faults{Latency: 150 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	counter := &inFlight{next: sim.Handler()}
	ts := httptest.NewServer(counter)
	t.Cleanup(ts.Close)
	t.Cleanup(sim.Close)

	e := newEnv(t, ts.URL, func(c *Config) {
		c.Profiles = []Profile{{
			Name: tasks.DefaultSender, HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken,
			IDServer: strings.TrimPrefix(ts.URL, "http://"), IDAccessToken: simulator.DefaultIDAccessToken,
			MaxConcurrency: 2,
		}}
		c.IdentityScheme = "http"
		c.Concurrency = 6
	})
	var invs []tasks.Invite
	for i := range 8 {
		inv := e.inviteTo(simulator.DefaultRoomID, fmt.Sprintf("user%d@example.org", i))
		e.enqueue(inv, producer.Options{})
		invs = append(invs, inv)
	}
	e.runUntilIdle(time.Minute)
	for _, inv := range invs {
		e.wantResult(inv, matrix.Success, 1)
	}
	if st := sim.Stats(); st.Accepted != 8 || st.Duplicates != 0 {
		t.Fatalf("simulator accepted %d (%d duplicates), want 8 (0)", st.Accepted, st.Duplicates)
	}
	if counter.peak > 2 || counter.peak < 1 {
		t.Fatalf("%d invite requests of the capped sender were in flight at once, want at most 2", counter.peak)
	}
}
