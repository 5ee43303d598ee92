package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// first429 is a middleware in front of the simulator that answers the
// first invite request for each address with 429 M_LIMIT_EXCEEDED and a
// random advice, Synapse style, and records when the retry arrives. Later
// requests pass through to the simulator, which accepts them.
type first429 struct {
	lo, hi time.Duration
	// pass lets every request through unrecorded (P4's warm-up).
	pass atomic.Bool

	mu     sync.Mutex
	rng    *rand.Rand // seeded: the same advice sequence every run
	byAddr map[string]*retryTiming
}

// retryTiming is one address's 429 and retry.
type retryTiming struct {
	due   time.Time // when the 429 was written + the advice
	retry time.Time // arrival of the next request for the address
	extra int       // requests after the retry (there should be none)
}

func newFirst429(lo, hi time.Duration) *first429 {
	return &first429{lo: lo, hi: hi, rng: rand.New(rand.NewPCG(4, 29)), byAddr: map[string]*retryTiming{}}
}

func (m *first429) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		if !isInviteRequest(r) || m.pass.Load() {
			next.ServeHTTP(w, r)
			return
		}
		// The address is in the body; the simulator reads the body again.
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct {
			Address string `json:"address"`
		}
		_ = json.Unmarshal(body, &in)
		addr := strings.ToLower(strings.TrimSpace(in.Address))

		m.mu.Lock()
		t, seen := m.byAddr[addr]
		switch {
		case seen && t.retry.IsZero():
			t.retry = arrived
		case seen:
			t.extra++
		}
		if seen {
			m.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
		steps := int64((m.hi - m.lo) / time.Millisecond)
		advice := m.lo + time.Duration(m.rng.Int64N(steps+1))*time.Millisecond
		// Stamped before the answer is written, so the lateness measured
		// can only be too large, never too small.
		m.byAddr[addr] = &retryTiming{due: time.Now().Add(advice)}
		m.mu.Unlock()

		ms := advice.Milliseconds()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":%d}`, ms)
	})
}

// lateness returns, for every address retried, retry arrival − due; the
// number of retries that came early; and of requests after the retry.
func (m *first429) lateness() (late []time.Duration, early, extra int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.byAddr {
		extra += t.extra
		if t.retry.IsZero() {
			continue
		}
		d := t.retry.Sub(t.due)
		if d < 0 {
			early++
		}
		late = append(late, d)
	}
	return late, early, extra
}

// isInviteRequest matches POST /rooms/{roomId}/invite and
// PUT /rooms/{roomId}/invite/{txnId} of the client-server API.
func isInviteRequest(r *http.Request) bool {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return false
	}
	p := r.URL.Path
	return strings.HasPrefix(p, "/_matrix/client/") && strings.Contains(p, "/rooms/") &&
		(strings.HasSuffix(p, "/invite") || strings.Contains(p, "/invite/"))
}
