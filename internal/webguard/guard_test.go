package webguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

const testToken = "0123456789abcdef-webguard-token"

func newGuard(t *testing.T, o Options) *Guard {
	t.Helper()
	g, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// request builds a request to host:path as if received on local (the
// address the client connected to) from remote.
func request(method, host, path, local, remote string, hdr map[string]string) *http.Request {
	r := httptest.NewRequest(method, "http://"+host+path, nil)
	r.Host = host
	r.RemoteAddr = remote
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if local != "" {
		ap := netip.MustParseAddrPort(local)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.TCPAddrFromAddrPort(ap)))
	}
	return r
}

func serve(h http.Handler, r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

func TestHosts(t *testing.T) {
	g := newGuard(t, Options{Token: testToken, PublicURL: "https://MX.example.org/", AllowedHosts: []string{"prometheus-target"}})
	h := g.Handler(ok, Routes{Health: []string{"/healthz"}})
	bearer := map[string]string{"Authorization": "Bearer " + testToken}
	for _, c := range []struct {
		host, local string
		want        int
	}{
		{"127.0.0.1:9090", "127.0.0.1:9090", 200},
		{"localhost:9090", "127.0.0.1:9090", 200},
		{"[::1]:9090", "[::1]:9090", 200},
		{"mx.example.org", "10.0.0.5:9090", 200},  // the public URL's host, any case
		{"mx.example.org.", "10.0.0.5:9090", 200}, // with the root's dot
		{"prometheus-target:9090", "10.0.0.5:9090", 200},
		{"10.0.0.5:9090", "10.0.0.5:9090", 200}, // the address connected to
		{"10.0.0.6:9090", "10.0.0.5:9090", 421}, // another IP
		{"evil.example", "10.0.0.5:9090", 421},  // a rebound name
		{"evil.example:9090", "127.0.0.1:9090", 421},
		{"mx.example.org.evil.example", "10.0.0.5:9090", 421},
		{"", "127.0.0.1:9090", 421},
	} {
		if res := serve(h, request("GET", c.host, "/x", c.local, "192.0.2.1:5000", bearer)); res.StatusCode != c.want {
			t.Errorf("Host %q on %s: %d, want %d", c.host, c.local, res.StatusCode, c.want)
		}
	}
	// Health paths answer any Host, without the token.
	if res := serve(h, request("GET", "evil.example", "/healthz", "10.0.0.5:9090", "192.0.2.1:5000", nil)); res.StatusCode != 200 {
		t.Errorf("/healthz, foreign Host, no token: %d", res.StatusCode)
	}
	// And every answer has the headers.
	res := serve(h, request("GET", "evil.example", "/x", "10.0.0.5:9090", "192.0.2.1:5000", nil))
	if res.Header.Get("Content-Security-Policy") != ContentSecurityPolicy || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("a refused answer lacks the headers: %v", res.Header)
	}
}

func TestOpenPathsAndTraversal(t *testing.T) {
	g := newGuard(t, Options{Token: testToken})
	h := g.Handler(ok, Routes{Open: []string{"/login", "/static/"}})
	for path, want := range map[string]int{
		"/login": 200, "/static/app.js": 200,
		"/login/x": 401, "/loginx": 401, "/static/../api/campaigns": 401, "/static/./x": 401, "/": 401, "/api/campaigns": 401,
	} {
		r := request("GET", "127.0.0.1:8080", "/", "127.0.0.1:8080", "127.0.0.1:5000", nil)
		r.URL.Path = path
		if res := serve(h, r); res.StatusCode != want {
			t.Errorf("GET %s without the token: %d, want %d", path, res.StatusCode, want)
		}
	}
}

func TestBearerAndCrossOrigin(t *testing.T) {
	g := newGuard(t, Options{Token: testToken})
	h := g.Handler(ok, Routes{})
	for name, c := range map[string]struct {
		method string
		hdr    map[string]string
		want   int
	}{
		"no token":                     {"GET", nil, 401},
		"wrong token":                  {"GET", map[string]string{"Authorization": "Bearer " + strings.Repeat("x", 31)}, 401},
		"token, not bearer":            {"GET", map[string]string{"Authorization": "Basic " + testToken}, 401},
		"bearer":                       {"GET", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		"bearer write, cross-site":     {"POST", map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "cross-site"}, 403},
		"bearer write, same-site":      {"POST", map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "same-site"}, 403},
		"bearer write, foreign Origin": {"DELETE", map[string]string{"Authorization": "Bearer " + testToken, "Origin": "http://evil.example"}, 403},
		"bearer write, same origin":    {"POST", map[string]string{"Authorization": "Bearer " + testToken, "Sec-Fetch-Site": "same-origin"}, 200},
		"bearer write, no browser":     {"POST", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		"write without a token":        {"POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 401},
	} {
		if res := serve(h, request(c.method, "127.0.0.1:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000", c.hdr)); res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", name, res.StatusCode, c.want)
		}
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	g := newGuard(t, Options{Token: testToken, MaxSessions: 3, Now: func() time.Time { return now }})
	h := g.Handler(ok, Routes{})
	login := func() string {
		t.Helper()
		w := httptest.NewRecorder()
		if !g.Login(w, request("POST", "127.0.0.1:8080", "/login", "", "127.0.0.1:5000", nil), testToken) {
			t.Fatal("Login refused the token")
		}
		c := w.Result().Cookies()
		if len(c) != 1 || c[0].Name != SessionCookie || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Secure {
			t.Fatalf("session cookie %+v", c)
		}
		return c[0].Value
	}
	with := func(id string) int {
		t.Helper()
		return serve(h, request("GET", "127.0.0.1:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000",
			map[string]string{"Cookie": SessionCookie + "=" + id})).StatusCode
	}
	if g.Login(httptest.NewRecorder(), request("POST", "127.0.0.1:8080", "/login", "", "127.0.0.1:5000", nil), "wrong") {
		t.Error("Login took a wrong token")
	}
	a, b := login(), login()
	if a == b || strings.Contains(a, testToken) {
		t.Fatalf("two logins, sessions %q and %q: want two, without the token", a, b)
	}
	if with(a) != 200 || with(b) != 200 || with("made-up") != 401 {
		t.Errorf("sessions a %d, b %d, made-up %d", with(a), with(b), with("made-up"))
	}
	w := httptest.NewRecorder()
	g.Logout(w, request("POST", "127.0.0.1:8080", "/logout", "", "127.0.0.1:5000", map[string]string{"Cookie": SessionCookie + "=" + a}))
	if c := w.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("logout cookies %+v: want the cookie cleared", c)
	}
	if with(a) != 401 || with(b) != 200 {
		t.Errorf("after a's logout: a %d (want 401), b %d (want 200)", with(a), with(b))
	}
	// Bounded: the fourth login of three allowed ends the oldest.
	now = now.Add(time.Minute)
	c, d, e := login(), login(), login()
	if g.sessions.count() != 3 || with(b) != 401 || with(c) != 200 || with(d) != 200 || with(e) != 200 {
		t.Errorf("past MaxSessions: %d kept; b %d, c %d, d %d, e %d", g.sessions.count(), with(b), with(c), with(d), with(e))
	}
	now = now.Add(12 * time.Hour)
	if with(e) != 401 {
		t.Errorf("after 12 h: %d, want 401 (expired)", with(e))
	}
}

func TestSecureCookie(t *testing.T) {
	proxies, err := ParseTrustedProxies("127.0.0.1, 10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		o      Options
		remote string
		hdr    map[string]string
		want   bool
	}{
		{"plain http", Options{}, "192.0.2.1:5000", nil, false},
		{"https public URL", Options{PublicURL: "https://mx.example.org"}, "192.0.2.1:5000", nil, true},
		{"http public URL", Options{PublicURL: "http://mx.example.org"}, "192.0.2.1:5000", nil, false},
		{"trusted proxy says https", Options{TrustedProxies: proxies}, "10.1.2.3:5000", map[string]string{"X-Forwarded-Proto": "https"}, true},
		{"trusted proxy says http", Options{TrustedProxies: proxies}, "127.0.0.1:5000", map[string]string{"X-Forwarded-Proto": "http"}, false},
		{"untrusted peer says https", Options{TrustedProxies: proxies}, "192.0.2.1:5000", map[string]string{"X-Forwarded-Proto": "https"}, false},
		{"no proxies trusted", Options{}, "127.0.0.1:5000", map[string]string{"X-Forwarded-Proto": "https"}, false},
	} {
		c.o.Token = testToken
		g := newGuard(t, c.o)
		w := httptest.NewRecorder()
		g.Login(w, request("POST", "127.0.0.1:8080", "/login", "", c.remote, c.hdr), testToken)
		if ck := w.Result().Cookies(); len(ck) != 1 || ck[0].Secure != c.want {
			t.Errorf("%s: cookies %+v, want Secure %v", c.name, ck, c.want)
		}
	}
}

func TestNoToken(t *testing.T) {
	g := newGuard(t, Options{})
	h := g.Handler(ok, Routes{})
	if res := serve(h, request("GET", "127.0.0.1:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000", nil)); res.StatusCode != 200 {
		t.Errorf("no token, loopback: %d", res.StatusCode)
	}
	if res := serve(h, request("GET", "rebound.example:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000", nil)); res.StatusCode != 421 {
		t.Errorf("no token, foreign Host: %d", res.StatusCode)
	}
	if res := serve(h, request("POST", "127.0.0.1:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000", map[string]string{"Sec-Fetch-Site": "cross-site"})); res.StatusCode != 403 {
		t.Errorf("no token, cross-site POST: %d", res.StatusCode)
	}
}

func TestWrappedTwiceChecksOnce(t *testing.T) {
	g := newGuard(t, Options{Token: testToken})
	inner := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !AccessOf(r.Context()).Bearer {
			t.Error("the inner handler lost the access")
		}
	}), Routes{})
	outer := g.Handler(inner, Routes{})
	if res := serve(outer, request("GET", "127.0.0.1:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000",
		map[string]string{"Authorization": "Bearer " + testToken})); res.StatusCode != 200 {
		t.Errorf("%d", res.StatusCode)
	}
	// Another guard's mark does not let a request through.
	other := newGuard(t, Options{Token: testToken + "-other"})
	if res := serve(other.Handler(outer, Routes{}), request("GET", "127.0.0.1:8080", "/x", "127.0.0.1:8080", "127.0.0.1:5000",
		map[string]string{"Authorization": "Bearer " + testToken + "-other"})); res.StatusCode != 401 {
		t.Errorf("a request let in by another guard: %d, want 401", res.StatusCode)
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{
		{Token: "short"},
		{Token: testToken + " x"},
		{PublicURL: "mx.example.org"},
		{PublicURL: "ftp://mx.example.org/"},
		{PublicURL: "https://user:pw@mx.example.org/"},
		{AllowedHosts: []string{"mx.example.org:9090"}},
		{AllowedHosts: []string{"https://mx.example.org"}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted it", o)
		}
	}
	if _, err := New(Options{AllowedHosts: []string{"prometheus", "10.0.0.5", "::1"}, PublicURL: "http://[::1]:8080/"}); err != nil {
		t.Errorf("valid options: %v", err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8,not-an-ip"); err == nil || !strings.Contains(err.Error(), "not-an-ip") {
		t.Errorf("ParseTrustedProxies: %v", err)
	}
}

func TestCheckListen(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "127.0.0.2:1": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.5:8080": false, "example.org:80": false,
	} {
		err := CheckListen(addr, false)
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrNeedsToken)) {
			t.Errorf("CheckListen(%q, no token) = %v", addr, err)
		}
		if err := CheckListen(addr, true); err != nil {
			t.Errorf("CheckListen(%q, token) = %v", addr, err)
		}
	}
	if err := CheckListen("8080", true); err == nil {
		t.Error("CheckListen(8080) accepted an address without a host part")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/c/x?page=2": "/c/x?page=2", "": "/", "//evil.example": "/", `/\evil.example`: "/",
		"https://evil.example/": "/", "javascript:alert(1)": "/", "c/x": "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
