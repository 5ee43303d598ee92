package ops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/testkit"

	"github.com/mxinvite/mxinvite/internal/ops"
)

// start starts a server on a free loopback port, shut down when the test ends.
func start(t *testing.T, cfg ops.Config, mount func(*ops.Server)) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s, err := ops.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if mount != nil {
		mount(s)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return "http://" + s.Addr()
}

// get returns the status and body of a request.
func get(t *testing.T, method, url string) (int, string) { return testkit.Do(t, method, url) }

func TestHealthReadinessAndMounts(t *testing.T) {
	var redisDown, workerUp atomic.Bool
	base := start(t, ops.Config{
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "m 1\n") }),
		Readiness: ops.AllReady(
			ops.Check{Name: "redis", Readiness: ops.ReadyFunc(func(context.Context) error {
				if redisDown.Load() {
					return errors.New("no answer to PING:\nconnection refused")
				}
				return nil
			})},
			ops.Check{Name: "worker", Readiness: ops.WhenTrue(workerUp.Load, "not started")},
		),
	}, func(s *ops.Server) {
		s.Mount("/dashboard/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "dashboard "+r.URL.Path)
		}))
	})

	if code, body := get(t, "GET", base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, body := get(t, "GET", base+"/readyz"); code != 503 || body != "not ready:\nworker: not started\n" {
		t.Errorf("/readyz before the worker started: %d %q", code, body)
	}
	workerUp.Store(true)
	if code, body := get(t, "GET", base+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz: %d %q", code, body)
	}
	redisDown.Store(true)
	workerUp.Store(false)
	code, body := get(t, "GET", base+"/readyz")
	if want := "not ready:\nredis: no answer to PING: connection refused\nworker: not started\n"; code != 503 || body != want {
		t.Errorf("/readyz with two failures: %d %q, want 503 %q", code, body, want)
	}
	if code, body := get(t, "GET", base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz while not ready: %d %q", code, body)
	}
	if code, body := get(t, "GET", base+"/metrics"); code != 200 || body != "m 1\n" {
		t.Errorf("/metrics: %d %q", code, body)
	}
	if code, body := get(t, "GET", base+"/dashboard/x"); code != 200 || body != "dashboard /dashboard/x" {
		t.Errorf("mounted handler: %d %q", code, body)
	}
	if code, body := get(t, "GET", base+"/"); code != 200 || !strings.Contains(body, "/metrics\n") || !strings.Contains(body, "/dashboard/\n") {
		t.Errorf("index: %d %q", code, body)
	}
	if code, _ := get(t, "POST", base+"/healthz"); code != http.StatusMethodNotAllowed {
		t.Errorf("POST /healthz: %d", code)
	}
	if code, _ := get(t, "GET", base+"/nothing"); code != 404 {
		t.Errorf("/nothing: %d", code)
	}
}

func TestNoMetricsNoReadinessChecks(t *testing.T) {
	base := start(t, ops.Config{}, nil)
	if code, _ := get(t, "GET", base+"/metrics"); code != 404 {
		t.Errorf("/metrics without a handler: %d", code)
	}
	if code, body := get(t, "GET", base+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz without checks: %d %q", code, body)
	}
}

func TestReadinessIsBoundedInTime(t *testing.T) {
	base := start(t, ops.Config{ReadyTimeout: 50 * time.Millisecond, Readiness: ops.AllReady(ops.Check{
		Name: "slow", Readiness: ops.ReadyFunc(func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Minute):
				return nil
			}
		}),
	})}, nil)
	if code, body := get(t, "GET", base+"/readyz"); code != 503 || body != "not ready:\nslow: context deadline exceeded\n" {
		t.Errorf("/readyz with a check that hangs: %d %q", code, body)
	}
}

func TestConfigIsValidated(t *testing.T) {
	for _, addr := range []string{"", "9090", "localhost"} {
		if _, err := ops.New(ops.Config{Addr: addr}); err == nil || !strings.Contains(err.Error(), "host:port") {
			t.Errorf("Addr %q: %v", addr, err)
		}
	}
	s, err := ops.New(ops.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	taken, err := ops.New(ops.Config{Addr: s.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if err := taken.Start(); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Start on a port in use: %v", err)
	}
}
