package ops_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

// TestAsynqmon serves asynqmon read-only, then writable, and asks both to
// pause a queue: only the writable one does; neither deletes, archives or
// runs a task (their invites' records would go stale). Its page comes
// without third-party fonts, under a CSP that allows its inline scripts
// by hash.
func TestAsynqmon(t *testing.T) {
	r := redistest.Start(t)
	rdb := r.Client(t)
	queue := redistest.Unique(t, "q")
	info, err := asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask("t", nil), asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	in := asynq.NewInspectorFromRedisClient(rdb)
	paused := func() bool {
		t.Helper()
		qi, err := in.GetQueueInfo(queue)
		if err != nil {
			t.Fatal(err)
		}
		return qi.Paused
	}
	opt := asynq.RedisClientOpt{Addr: r.Addr}
	pauseURL := "/asynq/api/queues/" + url.PathEscape(queue) + ":pause"

	for _, writable := range []bool{false, true} {
		base := start(t, ops.Config{}, func(s *ops.Server) {
			if err := s.MountAsynqmon(opt, writable); err != nil {
				t.Fatal(err)
			}
		})
		res, body := do(t, "GET", base+"/asynq/", nil)
		if res.StatusCode != 200 || !strings.Contains(body, "<html") || !strings.Contains(body, "/asynq") {
			t.Fatalf("GET /asynq/ (writable %v): %d %.200q", writable, res.StatusCode, body)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if strings.Contains(body, "googleapis") || strings.Contains(body, "https://") ||
			!strings.Contains(csp, "'sha256-") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "script-src 'self' 'unsafe") {
			t.Errorf("asynqmon's page loads from another host, or its CSP %q does not fit it:\n%.600s", csp, body)
		}
		if res.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("asynqmon's page can be framed: X-Frame-Options %q", res.Header.Get("X-Frame-Options"))
		}
		script := regexp.MustCompile(`src="(/asynq/static/js/main\.[0-9a-f]+\.chunk\.js)"`).FindStringSubmatch(body)
		if script == nil {
			t.Fatalf("no main script in the page:\n%s", body)
		}
		if res, js := do(t, "GET", base+script[1], nil); res.StatusCode != 200 || len(js) < 10000 ||
			!strings.Contains(res.Header.Get("Content-Type"), "javascript") {
			t.Errorf("GET %s: %d %q, %d bytes", script[1], res.StatusCode, res.Header.Get("Content-Type"), len(js))
		}
		if code, body := get(t, "GET", base+"/asynq/queues/"+queue); code != 200 || !strings.Contains(body, "<html") {
			t.Errorf("a UI page is not the UI: %d %.200q", code, body)
		}
		if code, body := get(t, "GET", base+"/asynq/api/queues"); code != 200 || !strings.Contains(body, `"queue":"`+queue+`"`) {
			t.Errorf("GET /asynq/api/queues: %d %.300q", code, body)
		}
		code, body := get(t, "POST", base+pauseURL)
		switch {
		case !writable && (code != 405 || !strings.Contains(body, "read-only")):
			t.Errorf("read-only: pause answered %d %q, want 405", code, body)
		case !writable && paused():
			t.Fatal("read-only asynqmon paused the queue")
		case writable && code/100 != 2:
			t.Errorf("writable: pause answered %d %q, want 2xx", code, body)
		case writable && !paused():
			t.Error("writable asynqmon did not pause the queue")
		}
		// Task actions are refused, read-only (405) or writable (403).
		taskURL := base + "/asynq/api/queues/" + url.PathEscape(queue) + "/pending_tasks/" + url.PathEscape(info.ID)
		for _, a := range []struct{ method, url string }{
			{"DELETE", taskURL},
			{"POST", taskURL + ":archive"},
			{"POST", base + "/asynq/api/queues/" + url.PathEscape(queue) + "/pending_tasks:batch_delete"},
			{"DELETE", base + "/asynq/api/queues/" + url.PathEscape(queue)},
		} {
			code, body := get(t, a.method, a.url)
			if want := map[bool]int{false: 405, true: 403}[writable]; code != want {
				t.Errorf("%s %s (writable %v): %d %q, want %d", a.method, a.url, writable, code, body, want)
			}
		}
		if _, err := in.GetTaskInfo(queue, info.ID); err != nil {
			t.Errorf("the task is gone after refused actions: %v", err)
		}
		if writable {
			resumeURL := strings.TrimSuffix(pauseURL, ":pause") + ":resume"
			if code, body := get(t, "POST", base+resumeURL); code/100 != 2 || paused() {
				t.Errorf("writable: resume answered %d %q, queue paused %v", code, body, paused())
			}
		}
	}

}
