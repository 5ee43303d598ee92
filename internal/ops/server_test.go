package ops_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/testkit"
	"github.com/mxinvite/mxinvite/internal/webguard"
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

// do makes one request with the headers given ("Host" sets the Host
// header) and returns the answer and its body.
func do(t *testing.T, method, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	c := http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

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

const testToken = "0123456789abcdef-ops-token"

// TestOneLockOnEveryPath: with a token, every path of the server but
// /healthz and /readyz needs it (bearer or a login session), a foreign
// Host is refused even with it, and cross-origin writes are refused; a
// plain login form serves browsers when no dashboard is mounted.
func TestOneLockOnEveryPath(t *testing.T) {
	g, err := webguard.New(webguard.Options{Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int32
	base := start(t, ops.Config{
		Guard:   g,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "m 1\n") }),
	}, func(s *ops.Server) {
		s.Mount("/tool/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "POST" {
				writes.Add(1)
			}
			_, _ = io.WriteString(w, "tool")
		}))
	})
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	for _, p := range []string{"/healthz", "/readyz"} {
		if res, _ := do(t, "GET", base+p, map[string]string{"Host": "probe.internal"}); res.StatusCode != 200 {
			t.Errorf("GET %s without a token, any Host: %d, want 200", p, res.StatusCode)
		}
	}
	for _, p := range []string{"/", "/metrics", "/tool/x"} {
		if res, _ := do(t, "GET", base+p, nil); res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without a token: %d, want 401 with WWW-Authenticate", p, res.StatusCode)
		}
		if res, _ := do(t, "GET", base+p, map[string]string{"Authorization": "Bearer wrong-token-wrong-token"}); res.StatusCode != 401 {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, res.StatusCode)
		}
		if res, _ := do(t, "GET", base+p, map[string]string{"Authorization": "Bearer " + testToken, "Host": "evil.example"}); res.StatusCode != 421 {
			t.Errorf("GET %s with the token and a foreign Host: %d, want 421", p, res.StatusCode)
		}
		res, _ := do(t, "GET", base+p, bearer)
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s with the token: %d, CSP %q", p, res.StatusCode, res.Header.Get("Content-Security-Policy"))
		}
	}
	if res, _ := do(t, "GET", base+"/tool/x", map[string]string{"Accept": "text/html"}); res.StatusCode != 303 ||
		!strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
		t.Errorf("a browser without a session: %d to %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
	}
	for _, h := range []map[string]string{{"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}} {
		h["Authorization"] = "Bearer " + testToken
		if res, _ := do(t, "POST", base+"/tool/x", h); res.StatusCode != 403 {
			t.Errorf("cross-origin POST %v: %d, want 403", h, res.StatusCode)
		}
	}
	if res, _ := do(t, "POST", base+"/tool/x", nil); res.StatusCode != 401 {
		t.Errorf("POST without a token: %d, want 401", res.StatusCode)
	}
	if n := writes.Load(); n != 0 {
		t.Fatalf("%d refused POSTs reached the handler", n)
	}
	if res, _ := do(t, "POST", base+"/tool/x", map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "same-origin"}); res.StatusCode != 200 || writes.Load() != 1 {
		t.Errorf("same-origin POST with the token: %d, writes %d", res.StatusCode, writes.Load())
	}

	// The login form: a session per login; logout ends it.
	if res, body := do(t, "GET", base+"/login", nil); res.StatusCode != 200 || !strings.Contains(body, `name="token"`) {
		t.Fatalf("GET /login: %d %q", res.StatusCode, body)
	}
	login := func(token string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(url.Values{"token": {token}, "next": {"/tool/x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := login("not-the-token-at-all"); res.StatusCode != 401 || len(res.Cookies()) != 0 {
		t.Errorf("login with a wrong token: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	res := login(testToken)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/tool/x" || len(res.Cookies()) != 1 {
		t.Fatalf("login: %d to %q, cookies %v", res.StatusCode, res.Header.Get("Location"), res.Cookies())
	}
	cookie := map[string]string{"Cookie": webguard.SessionCookie + "=" + res.Cookies()[0].Value}
	if res, _ := do(t, "GET", base+"/metrics", cookie); res.StatusCode != 200 {
		t.Errorf("/metrics with the session: %d", res.StatusCode)
	}
	if res, _ := do(t, "POST", base+"/logout", cookie); res.StatusCode != 303 {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if res, _ := do(t, "GET", base+"/metrics", cookie); res.StatusCode != 401 {
		t.Errorf("/metrics with a cookie from before logout: %d, want 401", res.StatusCode)
	}
}

func TestNoTokenMeansLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		_, err := ops.New(ops.Config{Addr: addr})
		if !errors.Is(err, webguard.ErrNeedsToken) {
			t.Errorf("New(%s) without a token: %v, want ErrNeedsToken", addr, err)
		}
	}
	base := start(t, ops.Config{}, nil)
	if res, _ := do(t, "GET", base+"/", map[string]string{"Host": "rebound.example"}); res.StatusCode != 421 {
		t.Errorf("no token, foreign Host: %d, want 421", res.StatusCode)
	}
	if res, _ := do(t, "GET", base+"/", map[string]string{"Host": "localhost"}); res.StatusCode != 200 {
		t.Errorf("no token, localhost: %d, want 200", res.StatusCode)
	}
}
