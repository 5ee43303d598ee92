package matrix

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// closedPortURL returns an http URL on which nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

func TestConnectionRefused(t *testing.T) {
	o := invite(context.Background(), newTestClient(closedPortURL(t)))
	checkOutcome(t, o, NetworkError, true, 0)
	if o.Requests != 0 || o.HTTPStatus != 0 || o.Ambiguous() {
		t.Errorf("Requests=%d HTTPStatus=%d Ambiguous=%v, want 0 0 false", o.Requests, o.HTTPStatus, o.Ambiguous())
	}
	if !strings.Contains(o.Status.Message, "refused") {
		t.Errorf("message %q does not name the transport error", o.Status.Message)
	}
}

func TestPerAttemptTimeout(t *testing.T) {
	srv := newTestServer(t, blockUntilGone)
	start := time.Now()
	o := invite(context.Background(), newTestClient(srv.URL), WithTimeout(100*time.Millisecond))
	checkOutcome(t, o, Timeout, true, 0)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v, the deadline was 100ms", elapsed)
	}
	if o.Requests != 1 || !o.Ambiguous() {
		t.Errorf("Requests=%d Ambiguous=%v, want 1 true", o.Requests, o.Ambiguous())
	}
}

func TestTricklingBodyTimesOut(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "{")
		for {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			if _, err := io.WriteString(w, " "); err != nil {
				return
			}
		}
	})
	start := time.Now()
	o := invite(context.Background(), newTestClient(srv.URL), WithTimeout(150*time.Millisecond))
	checkOutcome(t, o, Timeout, true, 0)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("took %v, the deadline was 150ms", elapsed)
	}
	if o.HTTPStatus != http.StatusOK || !o.Ambiguous() {
		t.Errorf("HTTPStatus=%d Ambiguous=%v, want 200 true", o.HTTPStatus, o.Ambiguous())
	}
}

func TestCallerCancellationIsAbandoned(t *testing.T) {
	srv := newTestServer(t, blockUntilGone)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	o := invite(ctx, newTestClient(srv.URL), WithTimeout(5*time.Second))
	checkOutcome(t, o, Abandoned, false, 0)
	if o.Status.Good() != true {
		t.Error("Abandoned is below ErrorLevel: neither success nor failure")
	}
	if o.Requests != 1 || !o.Ambiguous() {
		t.Errorf("Requests=%d Ambiguous=%v, want 1 true", o.Requests, o.Ambiguous())
	}
}

func TestCallerDeadlineIsAbandonedNotTimeout(t *testing.T) {
	srv := newTestServer(t, blockUntilGone)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	o := invite(ctx, newTestClient(srv.URL), WithTimeout(5*time.Second))
	checkOutcome(t, o, Abandoned, false, 0)
}

func TestAlreadyCancelledSendsNothing(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := invite(ctx, newTestClient(srv.URL))
	checkOutcome(t, o, Abandoned, false, 0)
	if o.Requests != 0 || len(srv.requests()) != 0 || o.Ambiguous() {
		t.Errorf("Requests=%d seen=%d Ambiguous=%v", o.Requests, len(srv.requests()), o.Ambiguous())
	}
}

func TestOversizedBody(t *testing.T) {
	var written atomic.Int64
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		chunk := []byte(strings.Repeat("x", 1024))
		for i := 0; i < 4096; i++ { // 4 MiB, far more than the cap
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	c := newTestClient(srv.URL, func(cfg *ClientConfig) { cfg.MaxBodyBytes = 2048 })
	o := invite(context.Background(), c)
	checkOutcome(t, o, IncorrectResponse, true, 0)
	if o.HTTPStatus != http.StatusForbidden || len(o.BodySample) != bodySampleBytes {
		t.Errorf("HTTPStatus=%d len(BodySample)=%d", o.HTTPStatus, len(o.BodySample))
	}
	if o.Ambiguous() {
		t.Error("an oversized 403 is not ambiguous")
	}
}

func TestDefaultBodyCapIsOneMiB(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"pad":"`+strings.Repeat("x", 1<<20)+`"}`)
	})
	o := invite(context.Background(), newTestClient(srv.URL))
	checkOutcome(t, o, IncorrectResponse, true, 0)
	if !o.Ambiguous() {
		t.Error("an unreadable 2xx is ambiguous")
	}
}

func TestNon2xxJSONIsIncorrectResponse(t *testing.T) {
	for name, body := range map[string]string{"html": "<html>ok</html>", "empty": "", "truncated": `{"a":`} {
		t.Run(name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, body)
			})
			o := invite(context.Background(), newTestClient(srv.URL))
			checkOutcome(t, o, IncorrectResponse, true, 0)
			if o.HTTPStatus != 200 || !o.Ambiguous() {
				t.Errorf("HTTPStatus=%d Ambiguous=%v, want 200 true", o.HTTPStatus, o.Ambiguous())
			}
		})
	}
}

func TestMissingTokenSendsNothing(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	c := newTestClient(srv.URL, func(cfg *ClientConfig) { cfg.AccessToken = "" })
	o := invite(context.Background(), c)
	checkOutcome(t, o, Unauthorised, false, 0)
	if o.Requests != 0 || len(srv.requests()) != 0 || o.Ambiguous() {
		t.Errorf("Requests=%d, server saw %d", o.Requests, len(srv.requests()))
	}
}

func TestInvalidBaseURLSendsNothing(t *testing.T) {
	for _, base := range []string{"", "not a url", "://x", "ftp://example.org", "example.org", "https://", "https:///path",
		"http://user:pw@example.org", "https://example.org/?q=1", "https://example.org/#frag", "http://[::1"} {
		t.Run(base, func(t *testing.T) {
			o := invite(context.Background(), newTestClient(base))
			checkOutcome(t, o, IncorrectRequest, false, 0)
			if o.Requests != 0 || o.HTTPStatus != 0 {
				t.Errorf("Requests=%d HTTPStatus=%d", o.Requests, o.HTTPStatus)
			}
		})
	}
}

func TestInvalidURLWinsOverMissingToken(t *testing.T) {
	c := NewClient(ClientConfig{HomeserverURL: "ftp://x"})
	checkOutcome(t, invite(context.Background(), c), IncorrectRequest, false, 0)
}
