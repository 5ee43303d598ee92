package dendritetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"
)

// plainClient is deliberately not the harness's client: the invites below
// are sent with nothing but net/http, as mxinvite would.
var plainClient = &http.Client{Timeout: 30 * time.Second}

type inviteResult struct {
	status  int
	header  http.Header
	body    string
	elapsed time.Duration
}

func (r inviteResult) errcode() string {
	var e struct {
		Errcode string `json:"errcode"`
	}
	_ = json.Unmarshal([]byte(r.body), &e)
	return e.Errcode
}

// invite POSTs a 3PID invite. It is safe to call from any goroutine.
func invite(h *Homeserver, token, roomID string, body map[string]any) (inviteResult, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost,
		h.URL+"/_matrix/client/v3/rooms/"+url.PathEscape(roomID)+"/invite", bytes.NewReader(b))
	if err != nil {
		return inviteResult{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := plainClient.Do(req)
	if err != nil {
		return inviteResult{}, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(resp.Body)
	return inviteResult{resp.StatusCode, resp.Header, string(bytes.TrimSpace(rb)), time.Since(start)}, err
}

func mustInvite(t *testing.T, h *Homeserver, token, roomID string, body map[string]any) inviteResult {
	t.Helper()
	r, err := invite(h, token, roomID, body)
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	return r
}

func email(h *Homeserver, address string) map[string]any {
	return map[string]any{"id_server": h.IDServer, "id_access_token": "x", "medium": "email", "address": address}
}

func TestDendriteSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a real Dendrite homeserver")
	}
	t.Run("invites", func(t *testing.T) { t.Parallel(); testInvites(t) })
	t.Run("rate_limit", func(t *testing.T) { t.Parallel(); testRateLimit(t) })
}

func testInvites(t *testing.T) {
	start := time.Now()
	h := Start(t, Options{})
	t.Logf("Start: %s in all, Dendrite %s up in %s (server %s, id_server %s)",
		time.Since(start), h.URL, h.StartupTime, h.ServerName, h.IDServer)
	is := h.Identity
	alice, aliceTok := h.CreateUser(t, "alice", false)
	_, bobTok := h.CreateUser(t, "bob", false)
	room := h.CreateRoom(t, aliceTok)
	alias := "#smoke:" + h.ServerName
	mustOK(t, "set alias", h.Do(t, http.MethodPut, "/_matrix/client/v3/directory/room/"+url.PathEscape(alias),
		aliceTok, map[string]string{"room_id": room}))

	// One invite: 200 {}, one m.room.third_party_invite, one store-invite.
	r := mustInvite(t, h, aliceTok, room, email(h, "alice@example.org"))
	if r.status != 200 || r.body != "{}" {
		t.Fatalf("3PID invite: got %d %s, want 200 {}", r.status, r.body)
	}
	invs := h.ThirdPartyInvites(t, aliceTok, room)
	if len(invs) != 1 || invs[0].DisplayName != "alice@example.org" || invs[0].Sender != alice {
		t.Fatalf("third-party invites after one invite: %+v", invs)
	}
	if n := is.StoreInvites("alice@example.org"); n != 1 {
		t.Fatalf("store-invite calls for alice@example.org: %d, want 1", n)
	}
	c := is.StoreInviteCalls()[0]
	if c.Medium != "email" || c.RoomID != room || c.Sender != alice || c.Token != invs[0].StateKey ||
		c.ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("store-invite call: %+v (state_key %s)", c, invs[0].StateKey)
	}
	var paths []string
	for _, rq := range is.Requests() {
		paths = append(paths, rq.Method+" "+rq.Path)
	}
	if fmt.Sprint(paths) != "[GET /_matrix/identity/api/v1/lookup POST /_matrix/identity/api/v1/store-invite]" {
		t.Errorf("identity requests for one invite: %v", paths)
	}
	t.Logf("one invite: %s; identity requests: %v", r.elapsed, paths)

	// Per-invite latency over a few more, each address stored exactly once.
	const extra = 5
	var total time.Duration
	for i := range extra {
		addr := fmt.Sprintf("user%d@example.org", i)
		r := mustInvite(t, h, aliceTok, room, email(h, addr))
		if r.status != 200 {
			t.Fatalf("invite %s: %d %s", addr, r.status, r.body)
		}
		total += r.elapsed
		if n := is.StoreInvites(addr); n != 1 {
			t.Errorf("store-invite calls for %s: %d, want 1", addr, n)
		}
	}
	t.Logf("mean 3PID invite latency over %d: %s", extra, total/extra)
	if invs := h.ThirdPartyInvites(t, aliceTok, room); len(invs) != 1+extra {
		t.Errorf("third-party invites: %d, want %d", len(invs), 1+extra)
	}

	// Error cases. store is the number of store-invite calls each one makes.
	cases := []struct {
		name, token, room string
		body              map[string]any
		status            int
		errcode, rawBody  string // rawBody checked when not empty
		store             int
	}{
		// Observed: 500 {"Err":""} with no errcode, AFTER store-invite: the
		// membership check comes only when the event is built.
		{"sender not in room", bobTok, room, email(h, "carol@example.org"), 500, "", `{"Err":""}`, 1},
		// Observed: 404 M_NOT_FOUND, also after store-invite.
		{"unknown room", aliceTok, "!nope:" + h.ServerName, email(h, "dan@example.org"), 404, "M_NOT_FOUND", "", 1},
		{"untrusted id_server", aliceTok, room, map[string]any{"id_server": "127.0.0.1:1", "id_access_token": "x",
			"medium": "email", "address": "erin@example.org"}, 400, "M_SERVER_NOT_TRUSTED", "", 0},
		{"bad token", "not-a-token", room, email(h, "frank@example.org"), 401, "M_UNKNOWN_TOKEN", "", 0},
		{"missing address", aliceTok, room, map[string]any{"id_server": h.IDServer, "id_access_token": "x",
			"medium": "email"}, 400, "M_BAD_JSON", "", 0},
		// Observed: 500 {"Err":""} after store-invite (sent with room_id set
		// to the alias): Dendrite's invite wants a room ID.
		{"room alias", aliceTok, alias, email(h, "hank@example.org"), 500, "", `{"Err":""}`, 1},
	}
	for _, tc := range cases {
		before := is.TotalStoreInvites()
		r := mustInvite(t, h, tc.token, tc.room, tc.body)
		t.Logf("%s: %d %s (%s)", tc.name, r.status, r.body, r.elapsed)
		if r.status != tc.status || r.errcode() != tc.errcode || (tc.rawBody != "" && r.body != tc.rawBody) {
			t.Errorf("%s: got %d %s, want %d %s %s", tc.name, r.status, r.body, tc.status, tc.errcode, tc.rawBody)
		}
		if n := is.TotalStoreInvites() - before; n != tc.store {
			t.Errorf("%s: %d store-invite calls, want %d", tc.name, n, tc.store)
		}
	}

	// Identity server failing: observed 500 {"Err":""}, after one store-invite.
	is.SetFail(true)
	r = mustInvite(t, h, aliceTok, room, email(h, "gina@example.org"))
	is.SetFail(false)
	t.Logf("identity server failing: %d %s", r.status, r.body)
	if r.status != 500 || r.body != `{"Err":""}` || is.StoreInvites("gina@example.org") != 1 {
		t.Errorf("identity server failing: got %d %s, %d store-invite", r.status, r.body, is.StoreInvites("gina@example.org"))
	}

	// Dendrite does not deduplicate: the same address twice is two
	// store-invites and two m.room.third_party_invite events. Any medium is
	// passed through to the identity server (ours accepts msisdn).
	for range 2 {
		if r := mustInvite(t, h, aliceTok, room, email(h, "twice@example.org")); r.status != 200 {
			t.Fatalf("invite twice@: %d %s", r.status, r.body)
		}
	}
	msisdn := map[string]any{"id_server": h.IDServer, "id_access_token": "x", "medium": "msisdn", "address": "447700900123"}
	if r := mustInvite(t, h, aliceTok, room, msisdn); r.status != 200 {
		t.Errorf("msisdn invite: %d %s", r.status, r.body)
	}
	invs = h.ThirdPartyInvites(t, aliceTok, room)
	if n, m := is.StoreInvites("twice@example.org"), CountByDisplayName(invs, "twice@example.org"); n != 2 || m != 2 {
		t.Errorf("same address twice: %d store-invites, %d events; want 2 and 2", n, m)
	}
	const pending = 1 + extra + 2 + 1

	// A 3PID bound to a Matrix user: signed lookup, pubkey fetched, plain
	// m.room.member invite, no store-invite.
	dave, _ := h.CreateUser(t, "dave", false)
	is.Bind("email", "dave@example.org", dave)
	r = mustInvite(t, h, aliceTok, room, email(h, "dave@example.org"))
	if r.status != 200 || is.StoreInvites("dave@example.org") != 0 {
		t.Errorf("bound 3PID: got %d %s, %d store-invite", r.status, r.body, is.StoreInvites("dave@example.org"))
	}
	if m := membership(t, h, aliceTok, room, dave); m != "invite" {
		t.Errorf("bound 3PID: membership of %s is %q, want invite", dave, m)
	}

	// Nothing else reached the room.
	if invs := h.ThirdPartyInvites(t, aliceTok, room); len(invs) != pending {
		t.Errorf("third-party invites at the end: %d, want %d", len(invs), pending)
	}
}

func membership(t *testing.T, h *Homeserver, token, room, userID string) string {
	for _, ev := range h.RoomState(t, token, room) {
		if ev.Type == "m.room.member" && ev.StateKey != nil && *ev.StateKey == userID {
			var c struct {
				Membership string `json:"membership"`
			}
			_ = json.Unmarshal(ev.Content, &c)
			return c.Membership
		}
	}
	return ""
}

// burst sends n invites at once from token into room and returns them.
func burst(t *testing.T, h *Homeserver, token, room, prefix string, n int) []inviteResult {
	t.Helper()
	res := make([]inviteResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { res[i], errs[i] = invite(h, token, room, email(h, fmt.Sprintf("%s%d@example.org", prefix, i))) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("burst %s%d: %v", prefix, i, err)
		}
	}
	return res
}

func testRateLimit(t *testing.T) {
	start := time.Now()
	h := Start(t, Options{RateLimit: true, Threshold: 5, CooloffMS: 500})
	t.Logf("Start (rate limiting on): %s in all, Dendrite up in %s", time.Since(start), h.StartupTime)
	is := h.Identity
	_, tok := h.CreateUser(t, "alice", false)
	room := h.CreateRoom(t, tok)

	// A burst of n at once: threshold 5 → 5 accepted, 5 limited. On a loaded
	// machine one burst may spread over more than the cool-off, so up to 5
	// bursts (bounded) are sent until one is limited.
	const n = 10
	limited, ok := 0, 0
	for round := 0; round < 5 && limited == 0; round++ {
		prefix := fmt.Sprintf("burst%d-", round)
		roundOK := 0
		for i, r := range burst(t, h, tok, room, prefix, n) {
			addr := fmt.Sprintf("%s%d@example.org", prefix, i)
			switch r.status {
			case 429:
				limited++
				var e struct {
					Errcode      string `json:"errcode"`
					RetryAfterMS int64  `json:"retry_after_ms"`
				}
				_ = json.Unmarshal([]byte(r.body), &e)
				if e.Errcode != "M_LIMIT_EXCEEDED" || e.RetryAfterMS != 500 || r.header.Get("Retry-After") != "" {
					t.Errorf("429 body %s, Retry-After %q", r.body, r.header.Get("Retry-After"))
				}
				if is.StoreInvites(addr) != 0 {
					t.Errorf("%s: rate-limited invite reached store-invite", addr)
				}
				if limited == 1 {
					t.Logf("rate-limited: %d %s (Retry-After header %q)", r.status, r.body, r.header.Get("Retry-After"))
				}
			case 200:
				roundOK++
				if is.StoreInvites(addr) != 1 {
					t.Errorf("%s: %d store-invite calls, want 1", addr, is.StoreInvites(addr))
				}
			default:
				t.Errorf("%s: unexpected %d %s", addr, r.status, r.body)
			}
		}
		ok += roundOK
		t.Logf("burst %d of %d invites (threshold 5 / 500 ms): %d ok, %d rate-limited", round+1, n, roundOK, n-roundOK)
	}
	if limited == 0 {
		t.Errorf("no 429 in 5 bursts of %d invites", n)
	}
	if got := len(h.ThirdPartyInvites(t, tok, room)); got != ok {
		t.Errorf("third-party invites: %d, want %d", got, ok)
	}

	// After retry_after_ms the same device may invite again. Dendrite frees
	// each slot with a timer, late on a loaded machine: retry (bounded).
	later := inviteResult{}
	for attempt := 0; attempt < 10 && later.status != 200; attempt++ {
		time.Sleep(600 * time.Millisecond)
		later = mustInvite(t, h, tok, room, email(h, "later@example.org"))
	}
	if later.status != 200 || is.StoreInvites("later@example.org") != 1 {
		t.Errorf("invite after cool-off: %d %s, %d store-invite", later.status, later.body, is.StoreInvites("later@example.org"))
	}

	// Admins are never rate-limited.
	_, adminTok := h.CreateUser(t, "root", true)
	adminRoom := h.CreateRoom(t, adminTok)
	for i, r := range burst(t, h, adminTok, adminRoom, "admin", n) {
		if r.status != 200 {
			t.Errorf("admin invite %d: %d %s", i, r.status, r.body)
		}
	}
}
