package matrix_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
)

// An identity server without the v2 lookup (Dendrite's v1-only ones) is
// asked once: its addresses go by 3PID, and it is not asked again for a
// while.
func TestResolverWithoutV2Lookup(t *testing.T) {
	var asked atomic.Int32
	is := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"errcode":"M_UNRECOGNIZED","error":"unrecognized request"}`))
	}))
	defer is.Close()
	c := matrix.NewClient(matrix.ClientConfig{HomeserverURL: is.URL, AccessToken: "t", IdentityScheme: "http"})
	ic := c.Identity(strings.TrimPrefix(is.URL, "http://"))
	r := matrix.NewResolver(time.Minute, matrix.MaxLookupBatch)
	for range 3 {
		if u, err := r.Resolve(context.Background(), ic, "tok", matrix.ThreePID{Medium: "email", Address: "a@example.org"}); u != "" || err != matrix.ErrNoV2Lookup {
			t.Fatalf("resolve: %q %v; want no v2 lookup", u, err)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the identity server was asked %d times, want once", n)
	}
}

// Concurrent lookups share one request; answers are cached, addresses
// hashed in canonical form. The first lookup is held at the identity
// server until the other 19 are queued behind it, so the count of
// requests does not depend on how fast the goroutines start: one request
// for the first address, one for the other 19, the repeat from the cache.
func TestResolverBatchesAndCaches(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Bindings: []simulator.Binding{{Address: "bound@example.org", UserID: "@b:sim.local"}}})
	if err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	var first sync.Once
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/lookup") {
			first.Do(func() { close(held); <-release })
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := matrix.NewClient(matrix.ClientConfig{HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken, IdentityScheme: "http"})
	ic := c.Identity(strings.TrimPrefix(ts.URL, "http://"))
	r := matrix.NewResolver(time.Minute, matrix.MaxLookupBatch)
	var wg sync.WaitGroup
	got := make([]matrix.UserID, 20)
	resolve := func(i int) {
		defer wg.Done()
		addr := "free" + string(rune('a'+i)) + "@example.org"
		if i == 0 {
			addr = "Bound@Example.org"
		}
		got[i], _ = r.Resolve(context.Background(), ic, simulator.DefaultIDAccessToken, matrix.ThreePID{Medium: "email", Address: addr})
	}
	wg.Add(1)
	go resolve(0)
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatal("the first lookup never reached the identity server")
	}
	for i := 1; i < len(got); i++ {
		wg.Add(1)
		go resolve(i)
	}
	for deadline := time.Now().Add(10 * time.Second); matrix.QueuedLookups(r) < len(got)-1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("%d of %d lookups queued behind the first after 10 s", matrix.QueuedLookups(r), len(got)-1)
		}
	}
	close(release)
	wg.Wait()
	if got[0] != "@b:sim.local" || got[1] != "" {
		t.Fatalf("answers %v", got)
	}
	if _, err := r.Resolve(context.Background(), ic, simulator.DefaultIDAccessToken, matrix.ThreePID{Medium: "email", Address: "bound@example.org"}); err != nil {
		t.Fatal(err)
	}
	st := sim.Stats()
	if st.Lookups != 2 || st.LookupAddresses != 20 || st.Requests["is_hash_details"] > 2 {
		t.Errorf("%d lookups of %d addresses (%v); want 2 (the first alone, the other 19 together), the repeat from the cache", st.Lookups, st.LookupAddresses, st.Requests)
	}
}
