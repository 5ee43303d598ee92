package dendritetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// Response is a homeserver answer, body read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r Response) Decode(v any) error { return json.Unmarshal(r.Body, v) }

// Errcode returns the body's "errcode", or "" (Dendrite's 500s have none).
func (r Response) Errcode() string {
	var e struct {
		Errcode string `json:"errcode"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Errcode
}

// String returns "<status> <body>", for failure messages.
func (r Response) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// Request sends a request to the client-server API. path starts with "/"
// ("/_matrix/client/v3/..."); token, if not empty, goes in an
// Authorization: Bearer header; body, if not nil, is sent as JSON. Only
// transport errors are returned: any HTTP status is a Response.
func (h *Homeserver) Request(ctx context.Context, method, path, token string, body any) (Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.URL+path, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// Do is Request for test code: it fails the test on transport errors and,
// when Dendrite answers 429, waits retry_after_ms and retries (at most 20
// times), so set-up calls work with rate limiting on. Do not use it for
// requests whose 429 the test wants to see: use Request.
func (h *Homeserver) Do(t testing.TB, method, path, token string, body any) Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt := 1; ; attempt++ {
		r, err := h.Request(ctx, method, path, token, body)
		if err != nil {
			t.Fatalf("dendritetest: %s %s: %v", method, path, err)
		}
		if r.Status != http.StatusTooManyRequests || attempt == 20 {
			return r
		}
		var e struct {
			RetryAfterMS int64 `json:"retry_after_ms"`
		}
		_ = r.Decode(&e)
		wait := time.Duration(min(max(e.RetryAfterMS, 10), 5000)) * time.Millisecond
		select {
		case <-ctx.Done():
			t.Fatalf("dendritetest: %s %s: still rate-limited: %v", method, path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// mustOK fails the test unless r is a 200.
func mustOK(t testing.TB, what string, r Response) {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("dendritetest: %s: %s", what, r)
	}
}

// roomPath returns "/_matrix/client/v3/rooms/<escaped roomID>" + suffix.
func roomPath(roomID, suffix string) string {
	return "/_matrix/client/v3/rooms/" + url.PathEscape(roomID) + suffix
}
