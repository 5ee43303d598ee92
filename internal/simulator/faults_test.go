package simulator_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

func TestLatencyApplied(t *testing.T) {
	const latency = 60 * time.Millisecond
	_, ts := simtest.NewServer(t, simulator.Config{Faults: simulator.Faults{Latency: latency, Jitter: 10 * time.Millisecond}})
	start := time.Now()
	wantStatus(t, call(t, ts, "GET", "/_matrix/client/v3/account/whoami", simulator.DefaultAccessToken, nil), 200, "")
	if d := time.Since(start); d < latency {
		t.Errorf("answered in %v, want at least %v", d, latency)
	}
}

func TestErrorRateAll(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Faults: simulator.Faults{ErrorRate: 1}})
	for i := 0; i < 3; i++ {
		wantStatus(t, invite(t, ts, fmt.Sprintf("e%d@example.org", i)), 500, "M_UNKNOWN")
	}
	if st := sim.Stats(); st.ServerErrors != 3 || st.Accepted != 0 || st.StoreInvites != 0 {
		t.Errorf("stats %+v, want 3 errors and nothing done", st)
	}
	if err := sim.SetFaults(simulator.Faults{ErrorRate: 1, ErrorStatus: 502, ErrorCode: "M_BAD_GATEWAY"}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, invite(t, ts, "x@example.org"), 502, "M_BAD_GATEWAY")
}

func TestErrorRateSeededIsReproducible(t *testing.T) {
	run := func() string {
		_, ts := simtest.NewServer(t, simulator.Config{Seed: 42, Faults: simulator.Faults{ErrorRate: 0.5}})
		var b strings.Builder
		for i := 0; i < 20; i++ {
			fmt.Fprintf(&b, "%d ", invite(t, ts, fmt.Sprintf("s%d@example.org", i)).status)
		}
		return b.String()
	}
	first, second := run(), run()
	if first != second {
		t.Errorf("same seed, different outcomes:\n%s\n%s", first, second)
	}
	if !strings.Contains(first, "200") || !strings.Contains(first, "500") {
		t.Errorf("outcomes %s: want a mix of 200 and 500 at rate 0.5", first)
	}
}

func TestErrorAfterStoreIsAmbiguous(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Faults: simulator.Faults{ErrorRate: 1, AfterStore: true}})
	wantStatus(t, invite(t, ts, "amb@example.org"), 500, "M_UNKNOWN")
	wantStatus(t, invite(t, ts, "amb@example.org"), 500, "M_UNKNOWN") // a blind retry
	if st := sim.Stats(); st.Accepted != 2 || st.Duplicates != 1 || st.StoreInvites != 2 {
		t.Errorf("stats %+v, want the invite stored twice despite the 500s", st)
	}
	// With PUT the server cached its success: the retry is answered from
	// the cache once the path is healthy again, and nothing is stored twice.
	path := txnPath(simulator.DefaultRoomID, "amb")
	wantStatus(t, call(t, ts, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "put@example.org")), 500, "M_UNKNOWN")
	if err := sim.SetFaults(simulator.Faults{}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, ts, "PUT", path, simulator.DefaultAccessToken, inviteReq(ts, "put@example.org")), 200, "")
	if st := sim.Stats(); st.Accepted != 3 || st.TxnCacheHits != 1 {
		t.Errorf("stats %+v, want the PUT invite stored once", st)
	}
}

func TestTimeoutFault(t *testing.T) {
	for _, afterStore := range []bool{false, true} {
		t.Run(fmt.Sprint("afterStore=", afterStore), func(t *testing.T) {
			sim, ts := simtest.NewServer(t, simulator.Config{Faults: simulator.Faults{TimeoutRate: 1, AfterStore: afterStore}})
			_, err := send(ts, 150*time.Millisecond, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, inviteReq(ts, "t@example.org"))
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("got %v, want a client timeout", err)
			}
			want := int64(0)
			if afterStore {
				want = 1
			}
			if st := sim.Stats(); st.Timeouts != 1 || st.Accepted != want {
				t.Errorf("stats %+v, want 1 timeout and %d accepted", st, want)
			}
		})
	}
}

func TestNonJSONFault(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Faults: simulator.Faults{NonJSONRate: 1}})
	res := invite(t, ts, "n@example.org")
	if res.status != 200 || res.body != nil || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %q %q, want a 200 HTML page", res.status, res.header.Get("Content-Type"), res.raw)
	}
	if st := sim.Stats(); st.NonJSON != 1 || st.Accepted != 0 {
		t.Errorf("stats %+v, want 1 non-JSON answer and nothing accepted", st)
	}
}

func TestOutage(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{})
	sim.SetDown(true)
	wantStatus(t, call(t, ts, "GET", "/_matrix/client/v3/account/whoami", simulator.DefaultAccessToken, nil), 503, "M_UNKNOWN")
	wantStatus(t, invite(t, ts, "o@example.org"), 503, "M_UNKNOWN")
	wantStatus(t, call(t, ts, "GET", "/_sim/stats", "", nil), 200, "") // control paths stay up
	sim.SetDown(false)
	wantStatus(t, invite(t, ts, "o@example.org"), 200, "")
	if st := sim.Stats(); st.Outages != 2 || st.Accepted != 1 || st.InviteRequests != 1 {
		t.Errorf("stats %+v, want 2 outage answers and 1 invite", st)
	}
}

func TestOutageClosesConnections(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{DownMode: simulator.DownClose})
	sim.SetDown(true)
	if res, err := send(ts, 5*time.Second, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, inviteReq(ts, "c@example.org")); err == nil {
		t.Fatalf("got %d %s, want a network error", res.status, res.raw)
	}
	sim.SetDown(false)
	wantStatus(t, invite(t, ts, "c@example.org"), 200, "")
}

func TestFaultsValidated(t *testing.T) {
	sim, _ := simtest.NewServer(t, simulator.Config{})
	for _, f := range []simulator.Faults{
		{ErrorRate: 0.6, TimeoutRate: 0.6},
		{NonJSONRate: -0.1},
		{ErrorRate: 0.1, ErrorStatus: 404},
		{Latency: -time.Second},
	} {
		if err := sim.SetFaults(f); err == nil {
			t.Errorf("SetFaults(%+v) accepted", f)
		}
	}
}

func TestCloseReleasesHangingRequests(t *testing.T) {
	sim, ts := simtest.NewServer(t, simulator.Config{Faults: simulator.Faults{TimeoutRate: 1}})
	done := make(chan error, 1)
	go func() {
		res, err := send(ts, 10*time.Second, "POST", invitePath(simulator.DefaultRoomID), simulator.DefaultAccessToken, inviteReq(ts, "h@example.org"))
		if err == nil {
			err = fmt.Errorf("got an answer: %d %s", res.status, res.raw)
		}
		done <- err
	}()
	for sim.Stats().Timeouts == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	sim.Close()
	select {
	case err := <-done:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() || strings.Contains(err.Error(), "got an answer") {
			t.Errorf("want the connection dropped, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the hanging request was not released by Close")
	}
}
