package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/metrics/metricstest"
)

// The client side of TestOneLockOnEveryDoor (lock_test.go): the worker's
// --http listener as a stranger, a page and the operator meet it.

// door is the worker's --http listener, as a client sees it.
type door struct {
	t        *testing.T
	base     string // http://host:port
	host     string // host:port
	token    string
	sawToken bool
}

// call is one request; hdr "Host" sets the Host header ("" keeps it).
type call struct {
	method, path string
	form         url.Values
	hdr          map[string]string
}

// session is a login: its cookie and the dashboard's form token for it.
type session struct {
	cookie, csrf string
}

// write is one state-changing route. works: same-origin with the token
// does it (done then says whether Redis shows it); otherwise it is refused
// even then. by: the session that does it (zero: the bearer token).
type write struct {
	name, method, path string
	form               url.Values
	works              bool
	by                 session
	done               func() bool
}

func (d *door) bearer(hdr map[string]string) map[string]string {
	out := map[string]string{"Authorization": "Bearer " + d.token}
	for k, v := range hdr {
		out[k] = v
	}
	return out
}

func (s session) header(hdr map[string]string) map[string]string {
	out := map[string]string{"Cookie": "mxinvite_session=" + s.cookie}
	for k, v := range hdr {
		out[k] = v
	}
	return out
}

// withCSRF adds the session's form token to a dashboard POST.
func (s session) withCSRF(c call) call {
	f := url.Values{}
	for k, v := range c.form {
		f[k] = v
	}
	f.Set("csrf", s.csrf)
	c.form = f
	return c
}

// sameOrigin are the headers a browser sends with a same-origin fetch or form.
func sameOrigin(d *door) map[string]string {
	return map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": d.base}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// do sends c (no redirects followed) and checks the headers every answer
// carries.
func (d *door) do(c call) (*http.Response, string) {
	d.t.Helper()
	var body io.Reader
	if c.form != nil {
		body = strings.NewReader(c.form.Encode())
	}
	req, err := http.NewRequest(c.method, d.base+c.path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	if c.form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.hdr {
		if k == "Host" {
			if v != "" {
				req.Host = v
			}
			continue
		}
		req.Header.Set(k, v)
	}
	client := http.Client{Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	if bytes.Contains(b, []byte(d.token)) {
		d.sawToken = true
	}
	if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || res.Header.Get("X-Frame-Options") != "DENY" {
		d.t.Errorf("%s %s (%d): CSP %q, X-Frame-Options %q: want both on every answer",
			c.method, c.path, res.StatusCode, res.Header.Get("Content-Security-Policy"), res.Header.Get("X-Frame-Options"))
	}
	return res, string(b)
}

// login opens a session through the dashboard's login form, as a browser.
func (d *door) login() session {
	d.t.Helper()
	_, page := d.do(call{method: "GET", path: "/login"})
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		d.t.Fatalf("no form token in the login page:\n%s", page)
	}
	res, body := d.do(call{method: "POST", path: "/login", form: url.Values{"csrf": {m[1]}, "token": {d.token}, "next": {"/"}},
		hdr: sameOrigin(d)})
	var s session
	for _, c := range res.Cookies() {
		if c.Name == "mxinvite_session" {
			s.cookie = c.Value
		}
	}
	if res.StatusCode != 303 || s.cookie == "" {
		d.t.Fatalf("login: %d, cookies %v\n%s", res.StatusCode, res.Cookies(), body)
	}
	_, page = d.do(call{method: "GET", path: "/c/later/confirm?action=cancel", hdr: s.header(nil)})
	if m = csrfField.FindStringSubmatch(page); m == nil {
		d.t.Fatalf("no form token in the confirmation page:\n%s", page)
	}
	s.csrf = m[1]
	return s
}

// refusals sends c as everyone who must be refused: no token, a wrong
// bearer token, a made-up cookie (401); the token with a foreign Host
// (421); and, for a write, the session or the token from another site
// (403). sess gives a write its cookie and form token.
func (d *door) refusals(c call, sess *session) {
	d.t.Helper()
	expect := func(who string, want int, c call) {
		d.t.Helper()
		if res, body := d.do(c); res.StatusCode != want {
			d.t.Errorf("%s %s, %s: %d %.200q, want %d", c.method, c.path, who, res.StatusCode, body, want)
		}
	}
	with := func(hdr map[string]string) call {
		out := c
		if sess != nil {
			out = sess.withCSRF(c)
		}
		out.hdr = hdr
		return out
	}
	expect("no token", 401, with(nil))
	expect("a wrong bearer token", 401, with(map[string]string{"Authorization": "Bearer " + strings.Repeat("0", len(d.token))}))
	expect("a made-up session cookie", 401, with(session{cookie: "made-up-session"}.header(nil)))
	expect("the token and a foreign Host", 421, with(d.bearer(map[string]string{"Host": "evil.example:" + strings.Split(d.host, ":")[1]})))
	if c.method == "GET" {
		return
	}
	if sess != nil {
		expect("the session from another site (Sec-Fetch-Site)", 403, with(sess.header(map[string]string{"Sec-Fetch-Site": "cross-site"})))
		expect("the session from a sibling site (Sec-Fetch-Site)", 403, with(sess.header(map[string]string{"Sec-Fetch-Site": "same-site"})))
		expect("the session from another origin (Origin)", 403, with(sess.header(map[string]string{"Origin": "http://evil.example"})))
	}
	expect("the token from another origin (Origin)", 403, with(d.bearer(map[string]string{"Origin": "http://evil.example"})))
}

// snapshot is what the writes could change, in one comparable line: the
// campaign's counts, the pauses, the queue's state and its scheduled tasks.
func (d *door) snapshot(e *campaignEnv) string {
	d.t.Helper()
	ctx := context.Background()
	counts := e.counts("later")
	pauses, err := e.store.Pauses(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	qi, err := e.inspector.GetQueueInfo(e.lane("later"))
	if err != nil {
		d.t.Fatal(err)
	}
	var ids []string
	sched, err := e.inspector.ListScheduledTasks(e.lane("later"))
	if err != nil {
		d.t.Fatal(err)
	}
	for _, ti := range sched {
		ids = append(ids, ti.ID)
	}
	sort.Strings(ids)
	var ps []string
	for _, p := range pauses {
		ps = append(ps, string(p.Scope)+":"+p.Name+":"+p.Kind)
	}
	b, _ := json.Marshal(map[string]any{
		"counts": counts, "pauses": ps, "paused": qi.Paused, "size": qi.Size, "pending": qi.Pending,
		"scheduled": qi.Scheduled, "archived": qi.Archived, "retry": qi.Retry, "scheduled_ids": ids,
	})
	return string(b)
}

// paused reads mxinvite_sender_paused of the default sender, with the token.
func (d *door) paused() float64 {
	d.t.Helper()
	res, body := d.do(call{method: "GET", path: "/metrics", hdr: d.bearer(nil)})
	if res.StatusCode != 200 {
		d.t.Fatalf("/metrics with the token: %d", res.StatusCode)
	}
	s, err := metricstest.Parse(body)
	if err != nil {
		d.t.Fatal(err)
	}
	v, ok := s[`mxinvite_sender_paused{sender="default"}`]
	if !ok {
		d.t.Fatalf("no mxinvite_sender_paused series for the default sender:\n%s", body)
	}
	return v
}

// logField waits (30 s at most) for the process's JSON log line with
// message and returns its string field.
func logField(t *testing.T, p *process, message, field string) string {
	t.Helper()
	var v string
	waitFor(t, "the log line "+message, 30*time.Second, 50*time.Millisecond, func() bool {
		if !p.running() {
			_, stderr := p.output()
			t.Fatalf("%s exited before logging %q:\n%s", p.name, message, stderr)
		}
		_, stderr := p.output()
		sc := bufio.NewScanner(bytes.NewReader(stderr))
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == message {
				v, _ = line[field].(string)
				return v != ""
			}
		}
		return false
	})
	return v
}
