package dashboard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/addrlist"
)

type client struct {
	t *testing.T
	h http.Handler
}

// do sends one request to the handler, as from host 127.0.0.1:8080.
func (c client) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	if h := hdr["Host"]; h != "" {
		r.Host = h
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func newClient(t *testing.T, o Options) client {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return client{t: t, h: h}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", page)
	}
	return m[1]
}

func TestHeadersOnEveryAnswer(t *testing.T) {
	c := newClient(t, Options{Source: newFakeSource()})
	for _, p := range []string{"/", "/static/app.js", "/c/nope", "/api/campaigns"} {
		res, _ := c.do("GET", p, nil, nil)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", p, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", p, res.Header.Get("X-Content-Type-Options"))
		}
	}
	res, body := c.do("GET", "/static/app.js", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "replaceChildren") {
		t.Errorf("app.js: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res, _ := c.do("GET", "/c/nope", nil, nil); res.StatusCode != 404 {
		t.Errorf("unknown campaign: %d, want 404", res.StatusCode)
	}
}

func TestHostileTextIsEscaped(t *testing.T) {
	c := newClient(t, Options{Source: newFakeSource()})
	_, home := c.do("GET", "/", nil, nil)
	path := campaignPath(hostileName)
	if !strings.Contains(home, `href="`+path+`"`) {
		t.Fatalf("campaigns page links to the campaign as %q? page:\n%s", path, home)
	}
	res, page := c.do("GET", path, nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("campaign page %s: %d", path, res.StatusCode)
	}
	for _, raw := range []string{"<b>x</b>", "<script>alert", "<i>s</i>", "<dead>"} {
		if strings.Contains(page+home, raw) {
			t.Errorf("page contains raw %q", raw)
		}
	}
	for _, escaped := range []string{"&lt;b&gt;x&lt;/b&gt;", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "token &lt;dead&gt; &amp; &#34;gone&#34;"} {
		if !strings.Contains(page, escaped) {
			t.Errorf("page lacks %q", escaped)
		}
	}
}

func TestLoopbackHostOnlyWithoutToken(t *testing.T) {
	c := newClient(t, Options{Source: newFakeSource()})
	for host, want := range map[string]int{
		"127.0.0.1:8080": 200, "localhost:8080": 200, "[::1]:8080": 200,
		"evil.example": http.StatusMisdirectedRequest, "evil.example:8080": http.StatusMisdirectedRequest, "192.168.1.5:8080": http.StatusMisdirectedRequest,
	} {
		if res, _ := c.do("GET", "/", nil, map[string]string{"Host": host}); res.StatusCode != want {
			t.Errorf("Host %s: %d, want %d", host, res.StatusCode, want)
		}
	}
}

func TestActionsNeedSameOriginAndCSRF(t *testing.T) {
	src := newFakeSource()
	c := newClient(t, Options{Source: src})
	path := campaignPath(hostileName)
	_, confirm := c.do("GET", path+"/confirm?action=cancel", nil, nil)
	token := csrfOf(t, confirm)
	tests := []struct {
		name   string
		form   url.Values
		hdr    map[string]string
		status int
	}{
		{"no token", url.Values{}, map[string]string{"Sec-Fetch-Site": "same-origin"}, 403},
		{"wrong token", url.Values{"csrf": {strings.Repeat("0", 64)}}, map[string]string{"Sec-Fetch-Site": "same-origin"}, 403},
		{"cross-site", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"foreign origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "http://evil.example"}, 403},
		{"same origin", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8080"}, 200},
	}
	for _, tc := range tests {
		before := len(src.done())
		res, _ := c.do("POST", path+"/cancel", tc.form, tc.hdr)
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, res.StatusCode, tc.status)
		}
		if acted := len(src.done()) > before; acted != (tc.status == 200) {
			t.Errorf("%s: action run = %v", tc.name, acted)
		}
	}
	if res, _ := c.do("GET", path+"/cancel", nil, nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET of an action: %d, want 405", res.StatusCode)
	}
	c.do("POST", path+"/retry", url.Values{"csrf": {token}, "status": {"NotFound"}}, nil)
	c.do("POST", path+"/resume", url.Values{"csrf": {token}}, nil)
	if res, _ := c.do("POST", path+"/retry", url.Values{"csrf": {token}, "status": {"Success"}}, nil); res.StatusCode != 400 {
		t.Errorf("retry Success: %d, want 400", res.StatusCode)
	}
	want := []string{"cancel " + hostileName, "retry " + hostileName + " 105", "resume sender default"}
	if got := src.done(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("actions %q, want %q", got, want)
	}
}

// One invite's actions: same origin and the CSRF token, like the
// campaign's; a delivered invite is not retried, and the search escapes
// what it shows.
func TestInviteActions(t *testing.T) {
	src := newFakeSource()
	c := newClient(t, Options{Source: src})
	_, confirm := c.do("GET", "/i/k-late/confirm?action=cancel", nil, nil)
	token := csrfOf(t, confirm)
	same := map[string]string{"Sec-Fetch-Site": "same-origin"}
	if res, _ := c.do("POST", "/i/k-late/cancel", url.Values{}, same); res.StatusCode != 403 {
		t.Errorf("cancel without the token: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/i/k-late/cancel", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); res.StatusCode != 403 {
		t.Errorf("cross-site cancel: %d", res.StatusCode)
	}
	if res, body := c.do("POST", "/i/k-late/cancel", url.Values{"csrf": {token}}, same); res.StatusCode != 200 || !strings.Contains(body, "its task is removed from the queue") {
		t.Errorf("cancel: %d %s", res.StatusCode, body)
	}
	if res, _ := c.do("POST", "/i/k-ok/retry", url.Values{"csrf": {token}}, same); res.StatusCode != 409 {
		t.Errorf("retry of a delivered invite: %d, want 409", res.StatusCode)
	}
	if res, _ := c.do("GET", "/i/k-ok/confirm?action=retry", nil, nil); res.StatusCode != 409 {
		t.Errorf("confirm retry of a delivered invite: %d, want 409", res.StatusCode)
	}
	if res, _ := c.do("POST", "/i/k-notfound/retry", url.Values{"csrf": {token}}, same); res.StatusCode != 200 {
		t.Errorf("retry: %d", res.StatusCode)
	}
	if res, body := c.do("GET", "/i/k-ok", nil, nil); res.StatusCode != 200 || !strings.Contains(body, `<dd class="delivery">user_id (@ok:example.org)</dd>`) {
		t.Errorf("invite page: %d, want its delivery path and Matrix ID: %s", res.StatusCode, body)
	}
	if res, _ := c.do("GET", "/i/nosuch", nil, nil); res.StatusCode != 404 {
		t.Errorf("unknown invite: %d", res.StatusCode)
	}
	if got := strings.Join(src.done(), "|"); got != "cancel-invite k-late|retry-invite k-notfound" {
		t.Errorf("actions %q", got)
	}
	res, body := c.do("GET", "/search?q="+url.QueryEscape("=1+2@EXAMPLE.org"), nil, nil)
	if res.StatusCode != 200 || !strings.Contains(body, `href="/i/k-notfound"`) || strings.Contains(body, "<script>alert") {
		t.Errorf("search: %d %s", res.StatusCode, body)
	}
}

const testToken = "0123456789abcdef-dashboard-token"

func TestTokenGuardsEverything(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c := newClient(t, Options{Source: newFakeSource(), Token: testToken, Now: clock})
	path := campaignPath(hostileName)
	private := []string{"/", "/fragment/campaigns", "/api/campaigns", path, path + "/fragment", "/api/c/" + url.PathEscape(hostileName),
		path + "/confirm?action=cancel", path + "/results.csv", path + "/results.jsonl", path + "/failures.csv"}
	for _, p := range private {
		res, body := c.do("GET", p, nil, nil)
		if res.StatusCode != 401 || strings.Contains(body, "example.org") {
			t.Errorf("GET %s without the token: %d", p, res.StatusCode)
		}
		if res, _ := c.do("GET", p, nil, map[string]string{"Authorization": "Bearer wrong-token-of-some-length"}); res.StatusCode != 401 {
			t.Errorf("GET %s with a wrong token: %d", p, res.StatusCode)
		}
		res, body = c.do("GET", p, nil, map[string]string{"Authorization": "Bearer " + testToken})
		if res.StatusCode != 200 || strings.Contains(body, testToken) {
			t.Errorf("GET %s with the token: %d (or the token is in the answer)", p, res.StatusCode)
		}
	}
	if res, _ := c.do("GET", "/", nil, map[string]string{"Accept": "text/html"}); res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("a browser without login: %d to %q, want 303 to /login", res.StatusCode, res.Header.Get("Location"))
	}
	// A foreign Host is refused even with the token (DNS rebinding).
	if res, _ := c.do("GET", "/", nil, map[string]string{"Host": "dash.example.org", "Authorization": "Bearer " + testToken}); res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("token mode, foreign Host: %d, want 421", res.StatusCode)
	}

	_, login := c.do("GET", "/login?next=/c/x", nil, nil)
	lt := csrfOf(t, login)
	if res, _ := c.do("POST", "/login", url.Values{"csrf": {lt}, "token": {"not-the-token-at-all"}}, nil); res.StatusCode != 401 {
		t.Errorf("wrong token at login: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", "/login", url.Values{"csrf": {lt}, "token": {testToken}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); res.StatusCode != 403 {
		t.Errorf("cross-site login: %d", res.StatusCode)
	}
	res, _ := c.do("POST", "/login", url.Values{"csrf": {lt}, "token": {testToken}, "next": {"//evil.example/"}}, nil)
	cookies := res.Cookies()
	if res.StatusCode != 303 || res.Header.Get("Location") != "/" || len(cookies) != 1 {
		t.Fatalf("login: %d to %q with %d cookies", res.StatusCode, res.Header.Get("Location"), len(cookies))
	}
	ck := cookies[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, testToken) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, without the token", ck)
	}
	withCookie := map[string]string{"Cookie": ck.Name + "=" + ck.Value}
	res, page := c.do("GET", path+"/confirm?action=cancel", nil, withCookie)
	if res.StatusCode != 200 || strings.Contains(page, testToken) {
		t.Fatalf("with the session cookie: %d", res.StatusCode)
	}
	token := csrfOf(t, page)
	if res, _ := c.do("POST", path+"/cancel", url.Values{}, withCookie); res.StatusCode != 403 {
		t.Errorf("POST with cookie and no CSRF token: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", path+"/cancel", url.Values{"csrf": {lt}}, withCookie); res.StatusCode != 403 {
		t.Errorf("POST with the login form's CSRF token: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", path+"/cancel", url.Values{"csrf": {token}}, withCookie); res.StatusCode != 200 {
		t.Errorf("POST with cookie and CSRF token: %d", res.StatusCode)
	}
	if res, _ := c.do("POST", path+"/cancel", url.Values{}, map[string]string{"Authorization": "Bearer " + testToken}); res.StatusCode != 200 {
		t.Errorf("POST with the bearer token: %d", res.StatusCode)
	}
	// Each login is a session of its own; logging out ends it, so the
	// cookie captured before no longer opens anything, and the other
	// session stays open.
	res, _ = c.do("POST", "/login", url.Values{"csrf": {lt}, "token": {testToken}}, nil)
	if len(res.Cookies()) != 1 || res.Cookies()[0].Value == ck.Value {
		t.Fatalf("a second login gave %v: want a cookie of its own", res.Cookies())
	}
	other := map[string]string{"Cookie": ck.Name + "=" + res.Cookies()[0].Value}
	if res, _ := c.do("POST", "/logout", url.Values{"csrf": {token}}, withCookie); res.StatusCode != 303 {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if res, _ := c.do("GET", "/api/campaigns", nil, withCookie); res.StatusCode != 401 {
		t.Errorf("a cookie from before logout: %d, want 401", res.StatusCode)
	}
	if res, _ := c.do("GET", "/api/campaigns", nil, other); res.StatusCode != 200 {
		t.Errorf("the other session after one logout: %d, want 200", res.StatusCode)
	}
	now = now.Add(13 * time.Hour)
	if res, _ := c.do("GET", "/api/campaigns", nil, other); res.StatusCode != 401 {
		t.Errorf("expired session: %d, want 401", res.StatusCode)
	}
}

func TestFailuresDownloadReimports(t *testing.T) {
	c := newClient(t, Options{Source: newFakeSource()})
	res, body := c.do("GET", campaignPath(hostileName)+"/failures.csv", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), `filename="mxinvite-_b_x__b______a_1___-failures.csv"`) {
		t.Fatalf("failures.csv: %d, %q", res.StatusCode, res.Header.Get("Content-Disposition"))
	}
	rd, err := addrlist.NewReader(strings.NewReader(body), addrlist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || row.Err != nil {
			t.Fatalf("reading back the failures: %v %v", err, row.Err)
		}
		got = append(got, row.Address)
	}
	if len(got) != 1 || got[0] != "=1+2@example.org" {
		t.Errorf("enqueue would read %q, want the one failure", got)
	}
	_, all := c.do("GET", campaignPath(hostileName)+"/results.jsonl", nil, nil)
	if n := strings.Count(all, "\n"); n != 3 {
		t.Errorf("results.jsonl has %d lines, want 3", n)
	}
}

func TestStaticHasNoListing(t *testing.T) {
	c := newClient(t, Options{Source: newFakeSource()})
	if res, body := c.do("GET", "/static/", nil, nil); res.StatusCode == 200 {
		t.Errorf("/static/ lists the assets: %s", body)
	}
	if res, _ := c.do("GET", "/static/style.css", nil, nil); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style.css: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

// downSource fails every read as an unreachable Redis does.
type downSource struct{ *fakeSource }

func (downSource) Campaigns(context.Context) ([]Campaign, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
}

// A page that cannot be read is a styled page saying what is wrong, not
// plain text.
func TestErrorPageIsStyled(t *testing.T) {
	c := newClient(t, Options{Source: downSource{newFakeSource()}})
	res, body := c.do("GET", "/", nil, nil)
	if res.StatusCode != 500 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `<link rel="stylesheet" href="/static/style.css">`) ||
		!strings.Contains(body, "Redis is unreachable") || !strings.Contains(body, "connection refused") {
		t.Fatalf("error page: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
