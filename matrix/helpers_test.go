package matrix

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testToken   = "syt_c2VjcmV0_TOKENabc123"
	testIDToken = "ist_identity_SECRET987"
	testRoom    = RoomID("!abc:example.org")
	testIDHost  = "id.example.org"
	testAddress = "alice@example.org"
)

// seenRequest is what a test server received.
type seenRequest struct {
	Method        string
	RequestURI    string
	Authorization string
	ContentType   string
	UserAgent     string
	Body          string
}

// testServer records every request before handing it to the handler.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

func newTestServer(t *testing.T, handler http.HandlerFunc) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{
			Method:        r.Method,
			RequestURI:    r.RequestURI,
			Authorization: r.Header.Get("Authorization"),
			ContentType:   r.Header.Get("Content-Type"),
			UserAgent:     r.Header.Get("User-Agent"),
			Body:          string(body),
		})
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body)) // the handler may read it too
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seenRequest(nil), s.seen...)
}

func (s *testServer) count(method string) int {
	n := 0
	for _, r := range s.requests() {
		if r.Method == method {
			n++
		}
	}
	return n
}

// newTestClient points a client with testToken at url.
func newTestClient(url string, modify ...func(*ClientConfig)) *Client {
	cfg := ClientConfig{HomeserverURL: url, AccessToken: testToken, IdentityScheme: "http"}
	for _, m := range modify {
		m(&cfg)
	}
	return NewClient(cfg)
}

// invite sends the standard test invite.
func invite(ctx context.Context, c *Client, opts ...CallOption) Outcome {
	return c.InviteBy3PID(ctx, testRoom, testIDHost, testIDToken, "email", testAddress, opts...)
}

// reply writes a status with a JSON body.
func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// blockUntilGone holds the request until the client goes away (or 5s), so
// timeout and cancellation tests do not leave handlers running.
func blockUntilGone(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// checkOutcome asserts the three things every classification test cares about.
func checkOutcome(t *testing.T, o Outcome, code StatusCode, retryable bool, delay time.Duration) {
	t.Helper()
	if o.Status.Code != code {
		t.Errorf("code = %v (%q), want %v", o.Status.Code, o.Status.Message, code)
	}
	if o.Retryable != retryable {
		t.Errorf("retryable = %v, want %v", o.Retryable, retryable)
	}
	if o.RetryAfter != delay {
		t.Errorf("RetryAfter = %v, want %v", o.RetryAfter, delay)
	}
}
