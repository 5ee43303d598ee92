package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// TestOneLockOnEveryDoor starts a worker process with every door of its
// --http listener open (the dashboard, asynqmon with write actions,
// /metrics) and a token, and tries every route as a stranger, a rebinding
// page, another site and the operator would:
//
//   - every read (each listed below): no token, a wrong bearer token or a
//     made-up session cookie → 401; the token with a foreign Host → 421;
//     the bearer token or a login session → 200; every answer carries the
//     CSP and framing headers;
//   - every write (listed below): the same refusals, plus cross-site and
//     same-site requests (Sec-Fetch-Site, Origin) → 403, with nothing changed
//     in Redis; same-origin with the token works, except asynqmon's task
//     actions, which are refused even then (they would bypass mxinvite's
//     records);
//   - /healthz and /readyz answer anyone, /login and the login page's two
//     assets need no token and hold no data;
//   - a session cookie from before logout is refused, another session
//     stays open;
//   - without the token on a non-loopback address, `worker --asynqmon` exits
//     2 with one line saying why.
//
// Then the worker pauses its sender itself (its token dies mid-run), and
// `mxinvite resume`, then the dashboard's Resume, clear /readyz and
// mxinvite_sender_paused within 10 s.
func TestOneLockOnEveryDoor(t *testing.T) {
	skipShort(t)
	t.Parallel()
	e := newCampaignEnv(t, redistest.StartOwned(t, redistest.Options{}), simulator.Config{})
	ctx := context.Background()

	// Without a token, a listener that serves more than health stays on
	// loopback: a network address with asynqmon is refused.
	code, stdout, stderr := runCommand(t, e.logDir, "worker-no-token", nil,
		e.workerArgs("--http", "0.0.0.0:0", "--asynqmon", "--asynqmon-write")...)
	if line := string(stderr); code != 2 || len(stdout) != 0 || strings.Count(line, "\n") != 1 ||
		!strings.Contains(line, "--dashboard-token-file") || !strings.Contains(line, "asynqmon") || !strings.Contains(line, "not a loopback address") {
		t.Fatalf("worker --http 0.0.0.0:0 --asynqmon without a token: exit %d, stdout %q, stderr %q; want 2 and one line saying why",
			code, stdout, stderr)
	}

	// Three invites an hour ahead: scheduled tasks that writes can act on.
	for i := range 3 {
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: "later", RoomID: simulator.DefaultRoomID,
			Medium: tasks.MediumEmail, Address: address(i)})
		if err != nil {
			t.Fatal(err)
		}
		if v, err := e.prod.Enqueue(ctx, inv, producer.Options{ProcessAt: time.Now().Add(time.Hour)}); err != nil || v != record.Registered {
			t.Fatalf("enqueue: %v %v", v, err)
		}
	}
	scheduled, err := e.inspector.ListScheduledTasks(e.lane("later"))
	if err != nil || len(scheduled) != 3 {
		t.Fatalf("scheduled tasks: %d, %v", len(scheduled), err)
	}
	taskID := scheduled[0].ID

	token := "dash-" + randomHex(t) + randomHex(t)
	tokenFile := filepath.Join(t.TempDir(), "dashboard-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := e.startWorker("worker", "--http", "127.0.0.1:0", "--dashboard", "--asynqmon", "--asynqmon-write",
		"--dashboard-token-file", tokenFile, "--retry-waits", "100ms", "--timeouts", "5s")
	d := &door{t: t, token: token}
	d.host = logField(t, w, "ops server listening", "addr")
	d.base = "http://" + d.host
	waitFor(t, "/readyz 200", 30*time.Second, 100*time.Millisecond, func() bool {
		res, _ := d.do(call{method: "GET", path: "/readyz"})
		return res.StatusCode == 200
	})

	// The open doors.
	for _, p := range []string{"/healthz", "/readyz"} {
		for _, host := range []string{"", "probe.internal"} {
			res, body := d.do(call{method: "GET", path: p, hdr: map[string]string{"Host": host}})
			if res.StatusCode != 200 || (body != "ok\n" && body != "ready\n") {
				t.Errorf("GET %s without a token, Host %q: %d %q, want 200", p, host, res.StatusCode, body)
			}
		}
	}
	for _, p := range []string{"/login", "/static/style.css", "/static/app.js"} {
		res, body := d.do(call{method: "GET", path: p})
		if res.StatusCode != 200 || strings.Contains(body, "e2e.example") || strings.Contains(body, "later") {
			t.Errorf("GET %s without a token: %d, or it shows data", p, res.StatusCode)
		}
		if res, _ := d.do(call{method: "GET", path: p, hdr: d.bearer(map[string]string{"Host": "evil.example"})}); res.StatusCode != 421 {
			t.Errorf("GET %s with a foreign Host: %d, want 421", p, res.StatusCode)
		}
	}
	if res, _ := d.do(call{method: "POST", path: "/login", form: url.Values{"token": {"not-the-token-at-all"}}}); res.StatusCode != 403 && res.StatusCode != 401 {
		t.Errorf("POST /login with a wrong token: %d, want 401 or 403", res.StatusCode)
	}

	// Two logins, two sessions.
	sessA, sessB := d.login(), d.login()
	if sessA.cookie == sessB.cookie {
		t.Fatalf("two logins gave the same session cookie")
	}

	// Every read.
	_, page := d.do(call{method: "GET", path: "/asynq/", hdr: d.bearer(nil)})
	scripts := regexp.MustCompile(`src="(/asynq/static/js/[^"]+\.js)"`).FindAllStringSubmatch(page, -1)
	if len(scripts) < 2 {
		t.Fatalf("asynqmon's page names %d scripts:\n%s", len(scripts), page)
	}
	q := url.PathEscape(e.lane("later"))
	reads := []string{
		// the dashboard
		"/", "/fragment/campaigns", "/api/campaigns", "/c/later", "/c/later/fragment", "/api/c/later",
		"/c/later/confirm?action=cancel", "/c/later/results.csv", "/c/later/results.jsonl", "/c/later/failures.csv",
		// Prometheus
		"/metrics",
		// asynqmon: pages, assets, API
		"/asynq/", "/asynq/queues/" + q, "/asynq/servers", "/asynq/schedulers", "/asynq/redis",
		"/asynq/favicon.ico", "/asynq/manifest.json", scripts[0][1], scripts[1][1],
		"/asynq/api/queues", "/asynq/api/queues/" + q, "/asynq/api/queue_stats",
		"/asynq/api/queues/" + q + "/scheduled_tasks", "/asynq/api/queues/" + q + "/pending_tasks",
		"/asynq/api/queues/" + q + "/tasks/" + url.PathEscape(taskID), "/asynq/api/queues/" + q + "/groups",
		"/asynq/api/servers", "/asynq/api/scheduler_entries", "/asynq/api/redis_info",
	}
	for _, p := range reads {
		d.refusals(call{method: "GET", path: p}, nil)
		for who, c := range map[string]call{
			"bearer token":  {method: "GET", path: p, hdr: d.bearer(nil)},
			"login session": {method: "GET", path: p, hdr: sessA.header(nil)},
		} {
			res, body := d.do(c)
			if res.StatusCode != 200 || len(body) == 0 {
				t.Errorf("GET %s with the %s: %d, %d bytes; want 200", p, who, res.StatusCode, len(body))
			}
		}
	}
	if _, body := d.do(call{method: "GET", path: "/asynq/api/queues/" + q + "/scheduled_tasks", hdr: d.bearer(nil)}); !strings.Contains(body, taskID) {
		t.Errorf("asynqmon's scheduled tasks do not show the invites (the token opened nothing?): %.300s", body)
	}
	if res, _ := d.do(call{method: "GET", path: "/asynq/", hdr: d.bearer(nil)}); !strings.Contains(res.Header.Get("Content-Security-Policy"), "'sha256-") ||
		strings.Contains(page, "fonts.googleapis.com") {
		t.Errorf("asynqmon's page: CSP %q, or it still loads Google's fonts", res.Header.Get("Content-Security-Policy"))
	}

	// Every write. A campaign pause gives the dashboard's Resume something
	// to end.
	if _, err := e.store.SetPause(ctx, record.PauseCampaign, "later", record.PauseManual, "held by the test"); err != nil {
		t.Fatal(err)
	}
	queuePaused := func() bool {
		qi, err := e.inspector.GetQueueInfo(e.lane("later"))
		if err != nil {
			t.Fatal(err)
		}
		return qi.Paused
	}
	task := "/asynq/api/queues/" + q + "/scheduled_tasks/" + url.PathEscape(taskID)
	writes := []write{
		{name: "asynqmon: pause the queue", method: "POST", path: "/asynq/api/queues/" + q + ":pause", works: true,
			by: sessA, done: queuePaused},
		{name: "asynqmon: resume the queue", method: "POST", path: "/asynq/api/queues/" + q + ":resume", works: true,
			done: func() bool { return !queuePaused() }},
		{name: "asynqmon: delete a task", method: "DELETE", path: task},
		{name: "asynqmon: archive a task", method: "POST", path: task + ":archive"},
		{name: "asynqmon: run a task", method: "POST", path: task + ":run"},
		{name: "asynqmon: delete every scheduled task", method: "DELETE", path: "/asynq/api/queues/" + q + "/scheduled_tasks:delete_all"},
		{name: "asynqmon: batch-delete tasks", method: "POST", path: "/asynq/api/queues/" + q + "/scheduled_tasks:batch_delete"},
		{name: "asynqmon: delete the queue", method: "DELETE", path: "/asynq/api/queues/" + q},
		{name: "dashboard: retry", method: "POST", path: "/c/later/retry", form: url.Values{"status": {"NotFound"}}, works: true},
		{name: "dashboard: resume", method: "POST", path: "/c/later/resume", works: true, by: sessA,
			done: func() bool {
				p, err := e.store.GetPause(ctx, record.PauseCampaign, "later")
				return err == nil && p == nil
			}},
		{name: "dashboard: cancel", method: "POST", path: "/c/later/cancel", works: true, by: sessB,
			done: func() bool { return e.counts("later").States[record.StateCancelled] == 3 }},
	}
	for _, wr := range writes {
		before := d.snapshot(e)
		d.refusals(call{method: wr.method, path: wr.path, form: wr.form}, &sessA)
		if after := d.snapshot(e); after != before {
			t.Errorf("%s: refused requests changed Redis:\nbefore %s\nafter  %s", wr.name, before, after)
		}
		if !wr.works {
			for who, c := range map[string]call{
				"bearer token":  {method: wr.method, path: wr.path, hdr: d.bearer(sameOrigin(d))},
				"login session": {method: wr.method, path: wr.path, hdr: sessA.header(sameOrigin(d))},
			} {
				if res, body := d.do(c); res.StatusCode != 403 || !strings.Contains(body, "mxinvite cancel") {
					t.Errorf("%s, same origin with the %s: %d %q, want 403 pointing to mxinvite's commands", wr.name, who, res.StatusCode, body)
				}
			}
			if after := d.snapshot(e); after != before {
				t.Errorf("%s: a refused task action changed Redis:\nbefore %s\nafter  %s", wr.name, before, after)
			}
			continue
		}
		c := call{method: wr.method, path: wr.path, form: wr.form, hdr: d.bearer(sameOrigin(d))}
		who := "bearer token"
		if wr.by.cookie != "" {
			c, who = wr.by.withCSRF(c), "login session"
			c.hdr = wr.by.header(sameOrigin(d))
		}
		if res, body := d.do(c); res.StatusCode/100 != 2 {
			t.Errorf("%s, same origin with the %s: %d %.300q, want 2xx", wr.name, who, res.StatusCode, body)
		}
		if wr.done != nil && !wr.done() {
			t.Errorf("%s, same origin with the %s: done, but Redis does not show it", wr.name, who)
		}
	}

	// Logout ends that session only.
	if res, _ := d.do(sessA.withCSRF(call{method: "POST", path: "/logout", hdr: sessA.header(sameOrigin(d))})); res.StatusCode != 303 {
		t.Errorf("logout: %d, want 303", res.StatusCode)
	}
	before := d.snapshot(e)
	for _, c := range []call{
		{method: "GET", path: "/api/campaigns", hdr: sessA.header(nil)},
		{method: "GET", path: "/metrics", hdr: sessA.header(nil)},
		{method: "GET", path: "/asynq/api/queues", hdr: sessA.header(nil)},
		sessA.withCSRF(call{method: "POST", path: "/asynq/api/queues/" + q + ":pause", hdr: sessA.header(sameOrigin(d))}),
	} {
		if res, _ := d.do(c); res.StatusCode != 401 {
			t.Errorf("%s %s with a cookie from before logout: %d, want 401", c.method, c.path, res.StatusCode)
		}
	}
	if after := d.snapshot(e); after != before || queuePaused() {
		t.Errorf("a cookie from before logout changed Redis")
	}
	if res, _ := d.do(call{method: "GET", path: "/api/campaigns", hdr: sessB.header(nil)}); res.StatusCode != 200 {
		t.Errorf("the other session after a logout: %d, want 200", res.StatusCode)
	}

	// The worker pauses its only sender itself (its token dies); the token
	// comes back; `mxinvite resume`, then the dashboard's Resume, clear
	// /readyz and the gauge within 10 s.
	for i, resume := range []struct {
		name string
		do   func(campaign string)
	}{
		{"mxinvite resume", func(string) {
			code, stdout, stderr := runCommand(t, e.logDir, "resume", nil, append([]string{"resume", "--sender", "default"}, e.redisArgs()...)...)
			if code != 0 {
				t.Fatalf("mxinvite resume: exit %d\n%s%s", code, stdout, stderr)
			}
		}},
		{"the dashboard's Resume", func(campaign string) {
			c := sessB.withCSRF(call{method: "POST", path: "/c/" + campaign + "/resume", hdr: sessB.header(sameOrigin(d))})
			if res, body := d.do(c); res.StatusCode != 200 || !strings.Contains(body, "resumed") {
				t.Fatalf("the dashboard's Resume: %d %.300q", res.StatusCode, body)
			}
		}},
	} {
		campaign := fmt.Sprintf("dead-%d", i)
		if !e.sim.RevokeToken(e.token) {
			t.Fatal("the simulator did not know the worker's token")
		}
		inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail,
			Address: fmt.Sprintf("dead%d@e2e.example", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.prod.Enqueue(ctx, inv, producer.Options{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the worker to pause its sender: /readyz 503 and the paused gauge at 1", time.Minute, 100*time.Millisecond, func() bool {
			res, body := d.do(call{method: "GET", path: "/readyz"})
			return res.StatusCode == 503 && strings.Contains(body, "every sender is paused") && d.paused() == 1
		})
		if err := e.sim.AddToken(e.token, simulator.DefaultUserID); err != nil {
			t.Fatal(err)
		}
		resume.do(campaign)
		took := waitFor(t, resume.name+" to clear /readyz and the paused gauge", 10*time.Second, 100*time.Millisecond, func() bool {
			res, _ := d.do(call{method: "GET", path: "/readyz"})
			return res.StatusCode == 200 && d.paused() == 0
		})
		t.Logf("%s: /readyz 200 and mxinvite_sender_paused 0 after %s", resume.name, took.Round(time.Millisecond))
		waitFor(t, campaign+"'s invite to be sent after the resume", time.Minute, 100*time.Millisecond, func() bool {
			c, ok := e.tryCounts(campaign)
			return ok && c.Statuses[matrix.Success.String()] == 1
		})
	}

	// Nothing the listener answered held the token.
	if d.sawToken {
		t.Error("an answer held the dashboard token")
	}
}
