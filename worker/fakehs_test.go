package worker

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// answer is one scripted reply of the fake homeserver to an invite request.
type answer struct {
	status int
	body   string
	header map[string]string
	delay  time.Duration
}

var okAnswer = answer{status: 200, body: `{}`}

// fakeHS is a homeserver whose invite answers are scripted, in order; once
// the script is used up it answers 200 {}. It records every invite request
// it received, and answers the re-check calls (whoami, membership, power
// levels) for an inviter joined with power level 100 unless told otherwise.
type fakeHS struct {
	*httptest.Server

	mu       sync.Mutex
	script   []answer
	invites  []invite
	joined   bool
	rechecks int
}

type invite struct {
	at      time.Time
	method  string
	path    string
	address string
}

const testUser = "@inviter:test"

func newFakeHS(t *testing.T, script ...answer) *fakeHS {
	t.Helper()
	hs := &fakeHS{script: script, joined: true}
	hs.Server = httptest.NewServer(http.HandlerFunc(hs.serve))
	t.Cleanup(hs.Close)
	return hs
}

func (hs *fakeHS) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(path, "/account/whoami"):
		_, _ = w.Write([]byte(`{"user_id":"` + testUser + `"}`))
	case strings.Contains(path, "/state/m.room.member/"):
		hs.mu.Lock()
		joined := hs.joined
		hs.rechecks++
		hs.mu.Unlock()
		if !joined {
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"errcode":"M_NOT_FOUND","error":"no member event"}`))
			return
		}
		_, _ = w.Write([]byte(`{"membership":"join"}`))
	case strings.Contains(path, "/state/m.room.power_levels"):
		_, _ = w.Write([]byte(`{"users":{"` + testUser + `":100},"invite":0}`))
	case strings.Contains(path, "/invite"):
		hs.invite(w, r)
	default:
		w.WriteHeader(404)
		_, _ = w.Write([]byte(`{"errcode":"M_UNRECOGNIZED"}`))
	}
}

func (hs *fakeHS) invite(w http.ResponseWriter, r *http.Request) {
	var body struct{ Address string }
	_ = json.NewDecoder(r.Body).Decode(&body)
	hs.mu.Lock()
	hs.invites = append(hs.invites, invite{at: time.Now(), method: r.Method, path: r.URL.EscapedPath(), address: body.Address})
	a := okAnswer
	if len(hs.script) > 0 {
		a, hs.script = hs.script[0], hs.script[1:]
	}
	hs.mu.Unlock()
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = w.Write([]byte(a.body))
}

func (hs *fakeHS) seen() []invite {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]invite(nil), hs.invites...)
}

func (hs *fakeHS) setJoined(j bool) {
	hs.mu.Lock()
	hs.joined = j
	hs.mu.Unlock()
}
