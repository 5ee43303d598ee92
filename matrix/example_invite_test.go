package matrix_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/mxinvite/mxinvite/matrix"
)

// A worker sends one attempt, then asks the retry policy what to do next.
func ExampleClient_InviteBy3PID() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}`)
			return
		}
		fmt.Println("server got", r.Method, r.RequestURI)
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()

	client := matrix.NewClient(matrix.ClientConfig{HomeserverURL: srv.URL, AccessToken: "syt_secret"})
	room, err := matrix.ParseRoomID("!abc:example.org")
	if err != nil {
		panic(err)
	}
	policy := matrix.DefaultRetryPolicy()
	for retries := 0; ; retries++ {
		outcome := client.InviteBy3PID(context.Background(), room, "id.example.org", "id_token", "email", "alice@example.org",
			matrix.WithTimeout(policy.Timeout(retries)), matrix.WithRetryInterval(policy.Wait(retries)))
		fmt.Println(outcome.Status, "retryable:", outcome.Retryable, "ambiguous:", outcome.Ambiguous())
		retry, wait := policy.Next(outcome, retries)
		if !retry {
			break
		}
		fmt.Println("retry after", wait) // a real worker sleeps (or re-queues) here
	}
	// Output:
	// TooManyRequests (108): Too many requests retryable: true ambiguous: false
	// retry after 1.5s
	// server got POST /_matrix/client/v3/rooms/%21abc:example.org/invite
	// Success (0) retryable: false ambiguous: false
}
