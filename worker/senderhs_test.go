package worker

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// senderHS is a homeserver for tests of failures that belong to a sender:
// tokens that die, and invite answers decided per request by a function
// (per address, or by a limiter shared by all addresses). It counts every
// request by the token it carried.
type senderHS struct {
	*httptest.Server

	mu     sync.Mutex
	valid  map[string]bool     // access tokens accepted
	byTok  map[string]int      // requests per token, every endpoint
	sent   map[string]int      // invite requests per address
	decide func(string) answer // the answer to an invite of an address (default 200 {})
}

func newSenderHS(t *testing.T, tokens ...string) *senderHS {
	t.Helper()
	hs := &senderHS{valid: map[string]bool{}, byTok: map[string]int{}, sent: map[string]int{}}
	for _, tok := range tokens {
		hs.valid[tok] = true
	}
	hs.Server = httptest.NewServer(http.HandlerFunc(hs.serve))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *senderHS) serve(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	hs.mu.Lock()
	hs.byTok[tok]++
	ok := hs.valid[tok]
	decide := hs.decide
	hs.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(401)
		_, _ = w.Write([]byte(`{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed.","soft_logout":false}`))
		return
	}
	path := r.URL.Path
	switch {
	case strings.HasSuffix(path, "/account/whoami"):
		_, _ = w.Write([]byte(`{"user_id":"` + testUser + `"}`))
	case strings.Contains(path, "/state/m.room.member/"):
		_, _ = w.Write([]byte(`{"membership":"join"}`))
	case strings.Contains(path, "/state/m.room.power_levels"):
		_, _ = w.Write([]byte(`{"users":{"` + testUser + `":100},"invite":0}`))
	case strings.Contains(path, "/invite"):
		var body struct{ Address string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		hs.mu.Lock()
		hs.sent[body.Address]++
		hs.mu.Unlock()
		a := okAnswer
		if decide != nil {
			a = decide(body.Address)
		}
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	default:
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"errcode":"M_UNRECOGNIZED"}`))
	}
}

func (hs *senderHS) setValid(tok string, ok bool) {
	hs.mu.Lock()
	hs.valid[tok] = ok
	hs.mu.Unlock()
}

func (hs *senderHS) setDecide(f func(string) answer) {
	hs.mu.Lock()
	hs.decide = f
	hs.mu.Unlock()
}

func (hs *senderHS) requestsWith(tok string) int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.byTok[tok]
}

func (hs *senderHS) invitesTo(address string) int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.sent[address]
}

func (hs *senderHS) invitesTotal() int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	n := 0
	for _, v := range hs.sent {
		n += v
	}
	return n
}

// onlyAddress answers a to invites of address, and 200 {} to the others.
func onlyAddress(address string, a answer) func(string) answer {
	return func(got string) answer {
		if got == address {
			return a
		}
		return okAnswer
	}
}
