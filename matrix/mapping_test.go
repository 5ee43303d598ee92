package matrix

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestHTTPStatusTable covers every row of the reference HTTP table with a
// body that carries no Matrix error, so only the HTTP status decides.
func TestHTTPStatusTable(t *testing.T) {
	const interval = 7 * time.Second
	tests := []struct {
		status    int
		code      StatusCode
		retryable bool
	}{
		{200, Success, false},
		{410, IncorrectRequest, false},
		{411, NotFound, false},
		{413, NotFound, false},
		{415, NotFound, false},
		{418, NotFound, false},
		{419, NotFound, false},
		{401, Unauthorised, false},
		{403, ContentAccessError, false},
		{407, ContentAccessError, false},
		{404, NotFound, false},
		{400, IncorrectRequest, false},
		{405, IncorrectRequest, false},
		{406, IncorrectRequest, false},
		{426, IncorrectRequest, false},
		{428, IncorrectRequest, false},
		{505, IncorrectRequest, false},
		{494, IncorrectRequest, false},
		{497, IncorrectRequest, false},
		{429, TooManyRequests, true},
		{501, RequestNotImplemented, false},
		{510, RequestNotImplemented, false},
		{511, NetworkAuthRequired, false},
		{500, NetworkError, true},
		{502, NetworkError, true},
		{503, NetworkError, true},
		{504, NetworkError, true},
		{409, NetworkError, true},
		{420, NetworkError, true},
		{499, NetworkError, true},
		{300, NetworkError, true}, // never followed
		{302, NetworkError, true}, // no Location: returned as is
		{304, NetworkError, true},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				if tt.status == 200 {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(200)
					_, _ = io.WriteString(w, "{}")
					return
				}
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(tt.status)
				if tt.status != 304 {
					_, _ = io.WriteString(w, "plain text, no Matrix error")
				}
			})
			o := invite(context.Background(), newTestClient(srv.URL), WithRetryInterval(interval))
			var delay time.Duration
			if tt.code == TooManyRequests {
				delay = interval
			}
			checkOutcome(t, o, tt.code, tt.retryable, delay)
			if o.HTTPStatus != tt.status || o.Requests != 1 || o.Method != "POST" {
				t.Errorf("HTTPStatus=%d Requests=%d Method=%q, want %d 1 POST", o.HTTPStatus, o.Requests, o.Method, tt.status)
			}
			// A 5xx may come after the server acted, except those saying it did not.
			notActed := tt.status == 501 || tt.status == 503 || tt.status == 505 || tt.status == 511
			if wantAmbiguous := tt.status >= 500 && tt.status <= 599 && !notActed; o.Ambiguous() != wantAmbiguous {
				t.Errorf("Ambiguous = %v, want %v", o.Ambiguous(), wantAmbiguous)
			}
			if tt.code != Success && o.Status.Message == "" {
				t.Error("empty message for an error")
			}
		})
	}
}

func TestRedirectLoopEndsAsNetworkError(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
	})
	o := invite(context.Background(), newTestClient(srv.URL))
	checkOutcome(t, o, NetworkError, true, 0)
	if o.HTTPStatus != http.StatusTemporaryRedirect {
		t.Errorf("HTTPStatus = %d, want 307", o.HTTPStatus)
	}
	if want := DefaultMaxRedirects + 1; o.Requests != want || len(srv.requests()) != want {
		t.Errorf("Requests = %d, server saw %d, want %d", o.Requests, len(srv.requests()), want)
	}
}

func TestCodeForHTTPStatusOddValues(t *testing.T) {
	for _, status := range []int{0, -1, 100, 199, 600, 999, 1 << 30} {
		if got := codeForHTTPStatus(status); got != NetworkError {
			t.Errorf("codeForHTTPStatus(%d) = %v, want NetworkError", status, got)
		}
	}
	for _, status := range []int{200, 201, 204, 299} {
		if got := codeForHTTPStatus(status); got != Success {
			t.Errorf("codeForHTTPStatus(%d) = %v, want Success", status, got)
		}
	}
}
