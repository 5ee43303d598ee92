package metrics_test

import (
	"context"
	"github.com/mxinvite/mxinvite/internal/observe"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/metrics"
	"github.com/mxinvite/mxinvite/internal/metrics/metricstest"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/matrix"
)

var _ observe.Observer = (*metrics.Metrics)(nil)

func newMetrics(t *testing.T, opts metrics.Options) (*metrics.Metrics, func() metricstest.Series) {
	t.Helper()
	m, err := metrics.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(m.Handler())
	t.Cleanup(ts.Close)
	return m, func() metricstest.Series { return metricstest.Scrape(t, ts.URL) }
}

func outcome(code matrix.StatusCode, httpStatus, requests int) matrix.Outcome {
	return matrix.Outcome{Status: matrix.Status{Code: code}, HTTPStatus: httpStatus, Requests: requests}
}

func want(t *testing.T, s metricstest.Series, series string, v float64) {
	t.Helper()
	got, ok := s[series]
	if !ok || got != v {
		t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
	}
}

func TestObserverEventsBecomeSeries(t *testing.T) {
	m, scrape := newMetrics(t, metrics.Options{})
	m.Attempt("default", outcome(matrix.Success, 200, 1))
	m.Attempt("default", outcome(matrix.Success, 200, 2)) // a PUT that fell back to POST
	m.Attempt("default", outcome(matrix.TooManyRequests, 429, 1))
	m.Attempt("default", outcome(matrix.NetworkError, 502, 1))        // ambiguous
	m.Attempt("default", outcome(matrix.NetworkError, 0, 0))          // never sent
	m.Attempt("other-hs", outcome(matrix.ContentAccessError, 403, 1)) // another sender
	m.GateWait("default", 0)
	m.GateWait("default", 1500*time.Millisecond)
	m.InviteFinished("default", "spring", matrix.Success, 2*time.Second)
	m.InviteFinished("default", "spring", matrix.Success, 20*time.Second)
	m.InviteFinished("other-hs", "", matrix.ContentAccessError, time.Second)
	m.SenderPaused("default", "forbidden")
	m.SenderResumed("default")
	m.SenderPaused("default", "forbidden")
	m.SenderPaused("other-hs", "rate_limited")
	m.SenderResumed("other-hs")
	m.SenderBackoff("default", 90*time.Second)

	s := scrape()
	want(t, s, `mxinvite_invite_attempts_total{sender="default",status="Success"}`, 2)
	want(t, s, `mxinvite_invite_attempts_total{sender="default",status="TooManyRequests"}`, 1)
	want(t, s, `mxinvite_invite_attempts_total{sender="default",status="NetworkError"}`, 2)
	want(t, s, `mxinvite_invite_requests_total{sender="default"}`, 5)
	want(t, s, `mxinvite_invite_requests_total{sender="other-hs"}`, 1)
	want(t, s, `mxinvite_rate_limited_total{sender="default"}`, 1)
	want(t, s, `mxinvite_ambiguous_answers_total{sender="default"}`, 1)
	want(t, s, `mxinvite_gate_wait_seconds_count{sender="default"}`, 2)
	want(t, s, `mxinvite_gate_wait_seconds_bucket{sender="default",le="0.001"}`, 1)
	want(t, s, `mxinvite_gate_wait_seconds_sum{sender="default"}`, 1.5)
	want(t, s, `mxinvite_invites_finished_total{sender="default",status="Success"}`, 2)
	want(t, s, `mxinvite_invites_finished_total{sender="other-hs",status="ContentAccessError"}`, 1)
	want(t, s, `mxinvite_campaign_invites_finished_total{campaign="spring",status="Success"}`, 2)
	want(t, s, `mxinvite_campaign_invites_finished_total{campaign="none",status="ContentAccessError"}`, 1)
	want(t, s, `mxinvite_invite_latency_seconds_count{sender="default"}`, 2)
	want(t, s, `mxinvite_invite_latency_seconds_bucket{sender="default",le="5"}`, 1)
	want(t, s, `mxinvite_invite_latency_seconds_sum{sender="default"}`, 22)
	want(t, s, `mxinvite_sender_paused{sender="default"}`, 1)
	want(t, s, `mxinvite_sender_paused{sender="other-hs"}`, 0)
	want(t, s, `mxinvite_sender_pauses_total{reason="forbidden",sender="default"}`, 2)
	want(t, s, `mxinvite_sender_pauses_total{reason="rate_limited",sender="other-hs"}`, 1)
	want(t, s, `mxinvite_sender_backoff_seconds_count{sender="default"}`, 1)
	want(t, s, `mxinvite_sender_backoff_seconds_sum{sender="default"}`, 90)
	if s.Count("go_goroutines") != 1 || s.Count("process_") == 0 {
		t.Errorf("the Go and process collectors are missing")
	}
	if n := s.Count("asynq_"); n != 0 {
		t.Errorf("%d asynq series without an Inspector", n)
	}
}

// TestPausedSeriesFromTheStart: every configured sender has its paused
// series at 0 before any event, and SetSenderPaused (what Redis says, read
// by internal/ops.SenderPauses) moves it both ways.
func TestPausedSeriesFromTheStart(t *testing.T) {
	m, scrape := newMetrics(t, metrics.Options{Senders: []string{"default", "community"}})
	s := scrape()
	want(t, s, `mxinvite_sender_paused{sender="default"}`, 0)
	want(t, s, `mxinvite_sender_paused{sender="community"}`, 0)
	m.SetSenderPaused("community", true)
	want(t, scrape(), `mxinvite_sender_paused{sender="community"}`, 1)
	m.SenderPaused("default", "dead_token")
	m.SetSenderPaused("default", false) // resumed elsewhere: Redis says so
	s = scrape()
	want(t, s, `mxinvite_sender_paused{sender="default"}`, 0)
	want(t, s, `mxinvite_sender_pauses_total{reason="dead_token",sender="default"}`, 1)
	if n := s.Count("mxinvite_sender_paused{"); n != 2 {
		t.Errorf("%d paused series, want one per sender", n)
	}
}

func TestCampaignsKeepTheMostRecent(t *testing.T) {
	m, scrape := newMetrics(t, metrics.Options{MaxCampaigns: 2})
	for _, c := range []string{"a", "b", "a", "c", "a"} {
		m.InviteFinished("default", c, matrix.Success, time.Second)
	}
	s := scrape()
	want(t, s, `mxinvite_campaign_invites_finished_total{campaign="a",status="Success"}`, 3)
	want(t, s, `mxinvite_campaign_invites_finished_total{campaign="c",status="Success"}`, 1)
	if s.Has(`mxinvite_campaign_invites_finished_total{campaign="b",status="Success"}`) {
		t.Error("campaign b, the least recent, still has its series")
	}
	want(t, s, `mxinvite_metric_labels_capped_total{label="campaign"}`, 1)
	// The per-sender total stays exact whatever the campaigns did.
	want(t, s, `mxinvite_invites_finished_total{sender="default",status="Success"}`, 5)
}

func TestSendersAndReasonsAreCapped(t *testing.T) {
	m, scrape := newMetrics(t, metrics.Options{MaxSenders: 2, MaxReasons: 1})
	for _, snd := range []string{"a", "b", "c", "d", "a"} {
		m.Attempt(snd, outcome(matrix.Success, 200, 1))
	}
	m.SenderPaused("a", "forbidden")
	m.SenderPaused("b", "something-else")
	s := scrape()
	want(t, s, `mxinvite_invite_requests_total{sender="a"}`, 2)
	want(t, s, `mxinvite_invite_requests_total{sender="b"}`, 1)
	want(t, s, `mxinvite_invite_requests_total{sender="other"}`, 2)
	want(t, s, `mxinvite_metric_labels_capped_total{label="sender"}`, 2)
	want(t, s, `mxinvite_sender_pauses_total{reason="other",sender="b"}`, 1)
	want(t, s, `mxinvite_metric_labels_capped_total{label="reason"}`, 1)
}

func TestOptionsAreValidated(t *testing.T) {
	for _, o := range []metrics.Options{{MaxSenders: -1}, {MaxCampaigns: -3}, {Queues: []string{"q"}}} {
		if _, err := metrics.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestQueueMetricsFromRedis(t *testing.T) {
	r := redistest.StartOwned(t, redistest.Options{})
	rdb := r.Client(t)
	queue, idle := redistest.Unique(t, "q"), redistest.Unique(t, "idle")
	client := asynq.NewClientFromRedisClient(rdb)
	for i := range 3 {
		if _, err := client.Enqueue(asynq.NewTask("t", []byte{byte(i)}), asynq.Queue(queue)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.Enqueue(asynq.NewTask("t", nil), asynq.Queue(queue), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	in := asynq.NewInspectorFromRedisClient(rdb)
	_, scrape := newMetrics(t, metrics.Options{Inspector: in, Queues: []string{queue, idle}})

	s := scrape()
	q := `{queue="` + queue + `"}`
	want(t, s, `mxinvite_queue_metrics_up`+q, 1)
	want(t, s, `asynq_queue_size`+q, 4)
	want(t, s, `asynq_tasks_enqueued_total{queue="`+queue+`",state="pending"}`, 3)
	want(t, s, `asynq_tasks_enqueued_total{queue="`+queue+`",state="scheduled"}`, 1)
	want(t, s, `asynq_queue_paused_total`+q, 0)
	if s[`asynq_queue_memory_usage_approx_bytes`+q] <= 0 {
		t.Errorf("no memory usage for the queue")
	}
	// A queue asynq has not seen yet is empty, not an error.
	want(t, s, `mxinvite_queue_metrics_up{queue="`+idle+`"}`, 1)
	want(t, s, `asynq_queue_size{queue="`+idle+`"}`, 0)

	if err := in.PauseQueue(queue); err != nil {
		t.Fatal(err)
	}
	want(t, scrape(), `asynq_queue_paused_total`+q, 1)

	// Without Redis the scrape still answers, and says what it misses.
	r.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if rdb.Ping(ctx).Err() == nil {
		t.Fatal("Redis still answers after Stop")
	}
	s = scrape()
	want(t, s, `mxinvite_queue_metrics_up`+q, 0)
	if s.Has(`asynq_queue_size` + q) {
		t.Error("a queue size without Redis")
	}
}
