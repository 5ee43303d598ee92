// Package simtest starts a simulator for tests of other packages, on a
// loopback httptest server that is stopped when the test ends.
package simtest

import (
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// NewServer starts a simulator for cfg and returns it with its httptest
// server (use ts.URL as the homeserver URL, IDServer(ts) as id_server).
// An invalid cfg fails the test. Both are closed by t.Cleanup, releasing
// requests hanging on timeout faults first.
func NewServer(t testing.TB, cfg simulator.Config) (*simulator.Server, *httptest.Server) {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatalf("simtest: %v", err)
	}
	ts := httptest.NewServer(sim.Handler())
	// Cleanups run last-in first-out: sim.Close releases hanging
	// requests, then ts.Close can wait for the rest.
	t.Cleanup(ts.Close)
	t.Cleanup(sim.Close)
	return sim, ts
}

// IDServer returns the host:port of ts, the form an invite's id_server
// takes (the simulator is its own identity server).
func IDServer(ts *httptest.Server) string {
	u, err := url.Parse(ts.URL)
	if err != nil {
		return ""
	}
	return u.Host
}
