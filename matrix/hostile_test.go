package matrix

import (
	"bufio"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile answers: what a broken, misconfigured or malicious homeserver (or
// anything between it and mxinvite) can send back, and what the client makes
// of it. Each row is one case; every case must end in a bounded time, with a
// bounded amount of memory, as a libQuotient status the worker knows how to
// handle. The README's Reliability section points here.

// hostileCase is one row of the table.
type hostileCase struct {
	name    string
	handler func(t *testing.T, h *hostileServer) http.HandlerFunc
	client  func(*ClientConfig) // optional
	opts    []CallOption
	// within bounds the call's wall time.
	within time.Duration
	// maxHeap bounds the peak heap growth during the call (0: not checked).
	maxHeap uint64
	check   func(t *testing.T, o Outcome, h *hostileServer)
}

// hostileServer counts what the hostile handler did.
type hostileServer struct {
	requests atomic.Int64 // requests received
	written  atomic.Int64 // body bytes written
	done     chan struct{}
	finished chan struct{} // closed when a streaming handler returned
}

const (
	mib           = 1 << 20
	hostileBodyMB = 100
	// bigChunk is written over and over: the server never holds the body.
	bigChunkBytes = 64 << 10
)

func TestHostileAnswers(t *testing.T) {
	invalidJSON := `{"errcode":"M_FORBIDDEN","error":"trunc`
	cases := []hostileCase{
		{
			name: "100 MB body on 200, streamed",
			handler: func(t *testing.T, h *hostileServer) http.HandlerFunc {
				return streamBody(h, http.StatusOK, "application/json", nil)
			},
			within:  5 * time.Second,
			maxHeap: 16 * mib,
			check: func(t *testing.T, o Outcome, h *hostileServer) {
				checkOutcome(t, o, IncorrectResponse, true, 0)
				if o.HTTPStatus != 200 || !o.Ambiguous() || !strings.Contains(o.Status.Message, "body over") {
					t.Errorf("HTTPStatus=%d Ambiguous=%v message %q; want 200, true, a body-size message", o.HTTPStatus, o.Ambiguous(), o.Status.Message)
				}
				waitStreamEnd(t, h)
				// The client stopped reading at its cap and hung up: the
				// server could not push the 100 MB through.
				if w := h.written.Load(); w >= hostileBodyMB*mib/2 {
					t.Errorf("the server wrote %d MB before the client hung up; want far less than %d MB", w/mib, hostileBodyMB)
				} else {
					t.Logf("server wrote %.1f MB of %d MB before the client hung up", float64(w)/mib, hostileBodyMB)
				}
			},
		},
		{
			name: "gzip bomb: 100 MB of zeros in a few hundred KB",
			handler: func(t *testing.T, h *hostileServer) http.HandlerFunc {
				return streamBody(h, http.StatusOK, "application/json", map[string]string{"Content-Encoding": "gzip"})
			},
			within:  5 * time.Second,
			maxHeap: 16 * mib,
			check: func(t *testing.T, o Outcome, h *hostileServer) {
				checkOutcome(t, o, IncorrectResponse, true, 0)
				if o.HTTPStatus != 200 || !o.Ambiguous() {
					t.Errorf("HTTPStatus=%d Ambiguous=%v, want 200 true", o.HTTPStatus, o.Ambiguous())
				}
				waitStreamEnd(t, h)
			},
		},
		{
			name: "body trickled at one byte a second",
			handler: func(t *testing.T, h *hostileServer) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusOK)
					trickle(w, r, h, `{"a":"`+strings.Repeat("x", 100))
				}
			},
			opts:   []CallOption{WithTimeout(300 * time.Millisecond)},
			within: 1500 * time.Millisecond,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, Timeout, true, 0)
				// The status arrived, the body never did: it may have worked.
				if o.HTTPStatus != 200 || o.Requests != 1 || !o.Ambiguous() {
					t.Errorf("HTTPStatus=%d Requests=%d Ambiguous=%v, want 200 1 true", o.HTTPStatus, o.Requests, o.Ambiguous())
				}
			},
		},
		{
			name: "status line trickled at one byte a second",
			handler: func(t *testing.T, h *hostileServer) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					conn, buf, err := http.NewResponseController(w).Hijack()
					if err != nil {
						t.Errorf("hijack: %v", err)
						return
					}
					defer conn.Close()
					trickleConn(buf, h, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}")
				}
			},
			opts:   []CallOption{WithTimeout(300 * time.Millisecond)},
			within: 1500 * time.Millisecond,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, Timeout, true, 0)
				if o.HTTPStatus != 0 || o.Requests != 1 || !o.Ambiguous() {
					t.Errorf("HTTPStatus=%d Requests=%d Ambiguous=%v, want 0 1 true", o.HTTPStatus, o.Requests, o.Ambiguous())
				}
			},
		},
		{
			name: "invalid JSON on 200",
			handler: func(*testing.T, *hostileServer) http.HandlerFunc {
				return reply(http.StatusOK, invalidJSON)
			},
			within: 2 * time.Second,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, IncorrectResponse, true, 0)
				if o.HTTPStatus != 200 || !o.Ambiguous() {
					t.Errorf("HTTPStatus=%d Ambiguous=%v, want 200 true", o.HTTPStatus, o.Ambiguous())
				}
			},
		},
		{
			name: "retry_after_ms of 10^12 is clamped to MaxRetryAfter",
			handler: func(*testing.T, *hostileServer) http.HandlerFunc {
				return reply(http.StatusTooManyRequests, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1000000000000}`)
			},
			within: 2 * time.Second,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, TooManyRequests, true, DefaultMaxRetryAfter)
			},
		},
		{
			name: "retry_after_ms of 10^12 is clamped to a configured MaxRetryAfter",
			handler: func(*testing.T, *hostileServer) http.HandlerFunc {
				return reply(http.StatusTooManyRequests, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1000000000000}`)
			},
			client: func(c *ClientConfig) { c.MaxRetryAfter = 10 * time.Minute },
			within: 2 * time.Second,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, TooManyRequests, true, 10*time.Minute)
			},
		},
		{
			name: "negative retry_after_ms is 0",
			handler: func(*testing.T, *hostileServer) http.HandlerFunc {
				return reply(http.StatusTooManyRequests, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":-5000}`)
			},
			within: 2 * time.Second,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, TooManyRequests, true, 0)
			},
		},
	}

	// Invalid JSON on an error status: the HTTP status alone decides.
	for _, tt := range []struct {
		status int
		code   StatusCode
		delay  time.Duration
	}{
		{400, IncorrectRequest, 0},
		{401, Unauthorised, 0},
		{403, ContentAccessError, 0},
		{404, NotFound, 0},
		{429, TooManyRequests, 3 * time.Second}, // no advice readable: the retry interval
		{500, NetworkError, 0},
		{502, NetworkError, 0},
	} {
		cases = append(cases, hostileCase{
			name: "invalid JSON on " + http.StatusText(tt.status),
			handler: func(*testing.T, *hostileServer) http.HandlerFunc {
				return reply(tt.status, invalidJSON)
			},
			opts:   []CallOption{WithRetryInterval(3 * time.Second)},
			within: 2 * time.Second,
			check: func(t *testing.T, o Outcome, _ *hostileServer) {
				checkOutcome(t, o, tt.code, retryable(tt.code), tt.delay)
				if o.HTTPStatus != tt.status || o.ErrCode != "" || o.Status.Message == "" {
					t.Errorf("HTTPStatus=%d ErrCode=%q message %q; want %d, no errcode, a message",
						o.HTTPStatus, o.ErrCode, o.Status.Message, tt.status)
				}
			},
		})
	}

	// Redirect loops: the client follows DefaultMaxRedirects redirects, then
	// classifies the last 3xx; the server sees exactly that many requests.
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		cases = append(cases, hostileCase{
			name: "redirect loop " + http.StatusText(status),
			handler: func(*testing.T, *hostileServer) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, r.URL.Path, status)
				}
			},
			within: 5 * time.Second,
			check: func(t *testing.T, o Outcome, h *hostileServer) {
				checkOutcome(t, o, NetworkError, true, 0)
				want := int64(DefaultMaxRedirects + 1)
				if o.HTTPStatus != status || int64(o.Requests) != want || h.requests.Load() != want {
					t.Errorf("HTTPStatus=%d Requests=%d, server saw %d; want %d, %d, %d",
						o.HTTPStatus, o.Requests, h.requests.Load(), status, want, want)
				}
			},
		})
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runHostile(t, tc)
		})
	}
}

// runHostile serves tc's handler, makes one invite call and checks it.
func runHostile(t *testing.T, tc hostileCase) {
	h := &hostileServer{done: make(chan struct{}), finished: make(chan struct{})}
	handler := tc.handler(t, h)
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		handler(w, r)
	})
	// Registered after newTestServer's Close, so it runs first and
	// releases handlers still trickling before Close waits for them.
	t.Cleanup(func() { close(h.done) })
	var mods []func(*ClientConfig)
	if tc.client != nil {
		mods = append(mods, tc.client)
	}
	c := newTestClient(srv.URL, mods...)

	var o Outcome
	start := time.Now()
	peak := peakHeapGrowth(func() { o = invite(context.Background(), c, tc.opts...) })
	elapsed := time.Since(start)
	if elapsed > tc.within {
		t.Errorf("the call took %v, want under %v", elapsed, tc.within)
	}
	if tc.maxHeap > 0 {
		if peak >= tc.maxHeap {
			t.Errorf("heap grew by %.1f MB during the call, want under %d MB", float64(peak)/mib, tc.maxHeap/mib)
		}
		t.Logf("answered %v in %v; peak heap growth %.1f MB", o.Status.Code, elapsed.Round(time.Millisecond), float64(peak)/mib)
	}
	tc.check(t, o, h)
}

// streamBody streams 100 MB of body (JSON-looking: an object with one long
// string) from one reused 64 KiB chunk, gzip-compressed when the headers
// say so, until the client hangs up.
func streamBody(h *hostileServer, status int, contentType string, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		defer close(h.finished)
		w.Header().Set("Content-Type", contentType)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		var out io.Writer = w
		if header["Content-Encoding"] == "gzip" {
			gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
			defer gz.Close()
			out = gz
		}
		chunk := make([]byte, bigChunkBytes)
		if header["Content-Encoding"] != "gzip" {
			for i := range chunk {
				chunk[i] = 'x'
			}
			copy(chunk, `{"pad":"`)
		}
		for i := 0; i < hostileBodyMB*mib/bigChunkBytes; i++ {
			select {
			case <-h.done:
				return
			default:
			}
			n, err := out.Write(chunk)
			h.written.Add(int64(n))
			if err != nil {
				return
			}
			if i == 0 && header["Content-Encoding"] != "gzip" {
				copy(chunk, "xxxxxxxx") // the object opens once
			}
		}
	}
}

// waitStreamEnd waits (bounded) until a streaming handler gave up.
func waitStreamEnd(t *testing.T, h *hostileServer) {
	t.Helper()
	select {
	case <-h.finished:
	case <-time.After(10 * time.Second):
		t.Error("the server was still writing 10s after the client returned")
	}
}

// trickle writes s one byte a second, flushing each, until the client hangs
// up, the test ends, or s is written.
func trickle(w http.ResponseWriter, r *http.Request, h *hostileServer, s string) {
	rc := http.NewResponseController(w)
	for i := 0; i < len(s); i++ {
		if _, err := io.WriteString(w, s[i:i+1]); err != nil || rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-time.After(time.Second):
		}
	}
}

// trickleConn is trickle on a hijacked connection: even the status line
// comes one byte a second.
func trickleConn(buf *bufio.ReadWriter, h *hostileServer, s string) {
	for i := 0; i < len(s); i++ {
		if _, err := buf.WriteString(s[i : i+1]); err != nil || buf.Flush() != nil {
			return
		}
		select {
		case <-h.done:
			return
		case <-time.After(time.Second):
		}
	}
}

// peakHeapGrowth runs f and returns the largest growth of the live heap
// (runtime HeapAlloc) over its value before f, sampled every 2 ms and once
// at the end.
func peakHeapGrowth(f func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	sample := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
			peak.Store(m.HeapAlloc - base)
		}
	}
	stop, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	f()
	close(stop)
	<-sampled
	sample()
	return peak.Load()
}
