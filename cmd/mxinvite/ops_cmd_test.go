package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/testkit"

	"github.com/mxinvite/mxinvite/internal/metrics/metricstest"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// TestWorkerHTTP runs a worker with --http and --asynqmon through a small
// campaign and reads its endpoints as Prometheus, a probe and an operator
// would; then Redis stops and the worker is no longer ready.
func TestWorkerHTTP(t *testing.T) {
	r := redistest.StartOwned(t, redistest.Options{})
	e := &cliEnv{t: t, rdb: r.Client(t), redis: r.URL(), dir: t.TempDir(),
		prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q")}
	e.sim, e.ts = simtest.NewServer(t, simulator.Config{})
	const n = 5
	var list strings.Builder
	for i := range n {
		fmt.Fprintf(&list, "user%d@example.org\n", i)
	}
	res := mxinvite(t, join([]string{"enqueue", "--no-preflight", "--room", simulator.DefaultRoomID, "--campaign", "spring",
		"--file", e.file("list.txt", list.String())}, e.redisArgs(), e.profileArgs())...)
	if res.code != 0 {
		t.Fatalf("enqueue: exit %d %s", res.code, res.stderr)
	}

	base, stop := startWorkerHTTP(t, e, "--asynqmon")
	defer stop()

	// Scrape until the campaign is done and asynq has counted it.
	lane := e.queue + ":default:n0" // the first campaign of the sender: its first normal lane
	q := `{queue="` + lane + `"}`
	var s metricstest.Series
	for deadline := time.Now().Add(time.Minute); ; {
		s = metricstest.Scrape(t, base+"/metrics")
		if s[`mxinvite_invites_finished_total{sender="default",status="Success"}`] == n && s[`asynq_tasks_processed_total`+q] == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not finish within a minute; last scrape:\n%v", s)
		}
		time.Sleep(100 * time.Millisecond)
	}
	sim := e.sim.Stats()
	if sim.InviteRequests != n || sim.Accepted != n {
		t.Fatalf("the simulator saw %d invite requests and accepted %d, want %d", sim.InviteRequests, sim.Accepted, n)
	}
	for series, v := range map[string]float64{
		`mxinvite_invite_requests_total{sender="default"}`:                             float64(sim.InviteRequests),
		`mxinvite_invite_attempts_total{sender="default",status="Success"}`:            n,
		`mxinvite_campaign_invites_finished_total{campaign="spring",status="Success"}`: n,
		`mxinvite_gate_wait_seconds_count{sender="default"}`:                           n,
		`mxinvite_invite_latency_seconds_count{sender="default"}`:                      n,
		`mxinvite_invite_latency_seconds_bucket{sender="default",le="+Inf"}`:           n,
		`mxinvite_queue_metrics_up` + q:                                                1,
		`asynq_tasks_enqueued_total{queue="` + lane + `",state="pending"}`:             0,
		`asynq_tasks_failed_total` + q:                                                 0,
	} {
		if got, ok := s[series]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	if s.Has(`mxinvite_rate_limited_total{sender="default"}`) || s.Has(`mxinvite_ambiguous_answers_total{sender="default"}`) {
		t.Error("429s or ambiguous answers counted in a run that had none")
	}

	wantGet(t, "GET", base+"/healthz", 200, "ok\n")
	wantGet(t, "GET", base+"/readyz", 200, "ready\n")
	if code, body := httpDo(t, "GET", base+"/asynq/"); code != 200 || !strings.Contains(body, "<html") {
		t.Errorf("GET /asynq/: %d %.200q", code, body)
	}
	if code, body := httpDo(t, "GET", base+"/asynq/api/queues"); code != 200 || !strings.Contains(body, e.queue) {
		t.Errorf("GET /asynq/api/queues: %d %.300q", code, body)
	}
	if code, body := httpDo(t, "POST", base+"/asynq/api/queues/"+e.queue+":pause"); code != 405 {
		t.Errorf("asynqmon without --asynqmon-write paused the queue: %d %q", code, body)
	}

	r.Stop()
	code, body := httpDo(t, "GET", base+"/readyz")
	if code != 503 || !strings.HasPrefix(body, "not ready:\nredis: no answer to PING") {
		t.Errorf("/readyz with Redis stopped: %d %q", code, body)
	}
	wantGet(t, "GET", base+"/healthz", 200, "ok\n")
}

func TestWorkerHTTPFlags(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--asynqmon"}, "--asynqmon needs --http ADDR"},
		{[]string{"--http", "127.0.0.1:0", "--asynqmon-write"}, "--asynqmon-write needs --asynqmon"},
		{[]string{"--http", "9090"}, `--http "9090": ops server: Addr "9090": want host:port`},
		{[]string{"--dashboard"}, "--dashboard needs --http ADDR"},
		{[]string{"--http", "0.0.0.0:0", "--dashboard"}, "--dashboard-token-file"},
		// Without a token, a listener that serves more than health stays on
		// loopback, whatever it serves.
		{[]string{"--http", "0.0.0.0:0", "--asynqmon"}, "--http 0.0.0.0:0 is not a loopback address, and without --dashboard-token-file /metrics, asynqmon"},
		{[]string{"--http", "0.0.0.0:0", "--asynqmon", "--asynqmon-write"}, "asynqmon (invitees' addresses, queue pauses)"},
		{[]string{"--http", ":0"}, "--http :0 is not a loopback address, and without --dashboard-token-file /metrics would be open"},
		{[]string{"--http", "127.0.0.1:0", "--dashboard-token-file", "/nonexistent/token"}, "--dashboard-token-file: open /nonexistent/token"},
		{[]string{"--http", "127.0.0.1:0", "--public-url", "mx.example.org"}, "--public-url: public URL \"mx.example.org\": want http(s)://"},
		{[]string{"--http", "127.0.0.1:0", "--trusted-proxies", "10.0.0.0/8,proxy"}, "--trusted-proxies: trusted proxy \"proxy\""},
		{[]string{"--http", "127.0.0.1:0", "--allowed-hosts", "mx.example.org:80"}, "--allowed-hosts: allowed host \"mx.example.org:80\""},
	} {
		res := mxinvite(t, join([]string{"worker", "--until-idle"}, e.redisArgs(), e.profileArgs(), c.args)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, c.want) || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d %q, want exit 2 and one line with %q", c.args, res.code, res.stderr, c.want)
		}
	}
}

// TestWorkerHTTPDashboard: worker --http --dashboard serves the campaign
// dashboard beside /metrics and /healthz.
func TestWorkerHTTPDashboard(t *testing.T) {
	e := newCLIEnv(t, simulator.Config{})
	list := e.file("list.txt", "a@example.org\nb@example.org\n")
	if r := mxinvite(t, join([]string{"enqueue", "--no-preflight", "--room", simulator.DefaultRoomID, "--campaign", "dash",
		"--file", list}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("enqueue: exit %d %s", r.code, r.stderr)
	}
	base, stop := startWorkerHTTP(t, e, "--dashboard")
	defer stop()
	for path, want := range map[string]string{"/": ">dash<", "/c/dash": "dash", "/healthz": "ok", "/metrics": "mxinvite_"} {
		if code, body := httpDo(t, "GET", base+path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want 200 with %q:\n%.400s", path, code, want, body)
		}
	}
	// The sender's paused series exists from the start, at 0.
	if s := metricstest.Scrape(t, base+"/metrics"); !s.Has(pausedSeries) || s[pausedSeries] != 0 {
		t.Errorf("%s at start: %v (present %v), want 0", pausedSeries, s[pausedSeries], s.Has(pausedSeries))
	}
	// A pause of its only sender, set in Redis (by any worker), makes the
	// worker not ready: it sends nothing until someone acts.
	store := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix})
	if _, err := store.SetPause(context.Background(), record.PauseSender, "default", record.PauseManual, "held by the test"); err != nil {
		t.Fatal(err)
	}
	took := within(t, 10*time.Second, "/readyz 503 naming the pause and the paused gauge at 1", func() bool {
		code, body := httpDo(t, "GET", base+"/readyz")
		return code == 503 && strings.Contains(body, "every sender is paused (default: held by the test)") &&
			metricstest.Scrape(t, base+"/metrics")[pausedSeries] == 1
	})
	t.Logf("a pause set by another process showed in /readyz and %s after %s", pausedSeries, took)
	// mxinvite resume, another process, clears both.
	if r := mxinvite(t, join([]string{"resume", "--sender", "default"}, e.redisArgs())...); r.code != 0 {
		t.Fatalf("resume: exit %d %s", r.code, r.stderr)
	}
	took = within(t, 10*time.Second, "/readyz 200 and the paused gauge at 0 after mxinvite resume", func() bool {
		code, _ := httpDo(t, "GET", base+"/readyz")
		return code == 200 && metricstest.Scrape(t, base+"/metrics")[pausedSeries] == 0
	})
	t.Logf("mxinvite resume showed in /readyz and %s after %s", pausedSeries, took)
}

const pausedSeries = `mxinvite_sender_paused{sender="default"}`

// within polls cond every 100 ms until it holds, failing the test after
// limit; it returns how long it took.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for i := 0; i <= int(limit/(100*time.Millisecond)); i++ {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within %s: %s", limit, what)
	return 0
}

// startWorkerHTTP runs mxinvite worker --http 127.0.0.1:0 until stop, and
// returns the base URL it serves, read from its log.
func startWorkerHTTP(t *testing.T, e *cliEnv, extra ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &syncBuffer{}
	done := make(chan int, 1)
	args := join([]string{"mxinvite", "worker", "--http", "127.0.0.1:0", "--log-format", "json", "--concurrency", "2"},
		e.redisArgs(), e.profileArgs(), extra)
	go func() { done <- run(ctx, args, io.Discard, logs) }()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(2 * time.Minute):
			t.Errorf("the worker did not stop within 2 minutes")
		}
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if addr := logs.field("ops server listening", "addr"); addr != "" {
			return "http://" + addr, stop
		}
		select {
		case code := <-done:
			t.Fatalf("the worker exited %d before serving:\n%s", code, logs.String())
		default:
		}
	}
	stop()
	t.Fatalf("the worker did not log its HTTP address within 30 s:\n%s", logs.String())
	return "", nil
}

// syncBuffer is a log sink that tests may read while the worker writes.
type syncBuffer struct{ testkit.Buffer }

// field returns a string field of the first JSON log line with message.
func (b *syncBuffer) field(message, field string) string {
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["message"] == message {
			s, _ := line[field].(string)
			return s
		}
	}
	return ""
}

func httpDo(t *testing.T, method, url string) (int, string) { return testkit.Do(t, method, url) }

func wantGet(t *testing.T, method, url string, code int, body string) {
	t.Helper()
	if gotCode, gotBody := httpDo(t, method, url); gotCode != code || gotBody != body {
		t.Errorf("%s %s: %d %q, want %d %q", method, url, gotCode, gotBody, code, body)
	}
}
