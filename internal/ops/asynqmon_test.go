package ops_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

// TestAsynqmon serves asynqmon read-only, then writable, and asks both to
// pause a queue: only the writable one does.
func TestAsynqmon(t *testing.T) {
	r := redistest.Start(t)
	rdb := r.Client(t)
	queue := redistest.Unique(t, "q")
	if _, err := asynq.NewClientFromRedisClient(rdb).Enqueue(asynq.NewTask("t", nil), asynq.Queue(queue)); err != nil {
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
		code, body := get(t, "GET", base+"/asynq/")
		if code != 200 || !strings.Contains(body, "<html") || !strings.Contains(body, "/asynq") {
			t.Fatalf("GET /asynq/ (writable %v): %d %.200q", writable, code, body)
		}
		if code, body := get(t, "GET", base+"/asynq/queues/"+queue); code != 200 || !strings.Contains(body, "<html") {
			t.Errorf("a UI page is not the UI: %d %.200q", code, body)
		}
		if code, body := get(t, "GET", base+"/asynq/api/queues"); code != 200 || !strings.Contains(body, `"queue":"`+queue+`"`) {
			t.Errorf("GET /asynq/api/queues: %d %.300q", code, body)
		}
		code, body = get(t, "POST", base+pauseURL)
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
	}
}
