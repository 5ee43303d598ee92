package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProbe(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "redis does not answer", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}))
	defer ts.Close()
	if r := mxinvite(t, "probe", ts.URL+"/readyz"); r.code != 0 || r.stdout != ts.URL+"/readyz 200 OK\n" {
		t.Errorf("ready: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r := mxinvite(t, "probe", ts.URL+"/other")
	if r.code != exitFailure || !strings.Contains(r.stderr, `503 Service Unavailable: "redis does not answer\n"`) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("not ready: exit %d %q", r.code, r.stderr)
	}
	if r := mxinvite(t, "probe", "127.0.0.1:9090/readyz"); r.code != exitUsage {
		t.Errorf("no scheme: exit %d %q", r.code, r.stderr)
	}
	if r := mxinvite(t, "probe", "http://127.0.0.1:1/readyz"); r.code != exitFailure {
		t.Errorf("nothing listening: exit %d %q", r.code, r.stderr)
	}
}
