package matrix

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestWhoAmI(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"user_id":"@bot:example.org","device_id":"DEV"}`))
	user, o := newTestClient(srv.URL).WhoAmI(context.Background())
	checkOutcome(t, o, Success, false, 0)
	if user != "@bot:example.org" || o.Method != "GET" {
		t.Errorf("user = %q, Method = %s", user, o.Method)
	}
	seen := srv.requests()[0]
	if seen.RequestURI != "/_matrix/client/v3/account/whoami" || seen.Authorization != "Bearer "+testToken || seen.Body != "" {
		t.Errorf("request = %+v", seen)
	}
}

func TestWhoAmIFailures(t *testing.T) {
	tests := map[string]struct {
		handler http.HandlerFunc
		code    StatusCode
	}{
		"unknown token": {reply(401, `{"errcode":"M_UNKNOWN_TOKEN","error":"Invalid access token passed."}`), Unauthorised},
		"bad user_id":   {reply(200, `{"user_id":"bot"}`), IncorrectResponse},
		"wrong type":    {reply(200, `{"user_id":42}`), IncorrectResponse},
		"rate limited":  {reply(429, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":10}`), TooManyRequests},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newTestServer(t, tt.handler)
			user, o := newTestClient(srv.URL).WhoAmI(context.Background())
			if user != "" || o.Status.Code != tt.code || o.Retryable != retryable(tt.code) {
				t.Errorf("user=%q outcome=%v retryable=%v", user, o.Status, o.Retryable)
			}
		})
	}
}

func TestResolveAlias(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.RequestURI, "missing") {
			reply(404, `{"errcode":"M_NOT_FOUND","error":"Room alias not found"}`)(w, r)
			return
		}
		reply(200, `{"room_id":"!abc:example.org","servers":["example.org"]}`)(w, r)
	})
	c := newTestClient(srv.URL)
	room, o := c.ResolveAlias(context.Background(), "#room:example.org")
	checkOutcome(t, o, Success, false, 0)
	if room != testRoom {
		t.Errorf("room = %q", room)
	}
	if uri := srv.requests()[0].RequestURI; uri != "/_matrix/client/v3/directory/room/%23room:example.org" {
		t.Errorf("RequestURI = %s", uri)
	}
	room, o = c.ResolveAlias(context.Background(), "#missing:example.org")
	checkOutcome(t, o, NotFound, false, 0)
	if room != "" || o.ErrCode != MNotFound {
		t.Errorf("room=%q ErrCode=%s", room, o.ErrCode)
	}
	_, o = c.ResolveAlias(context.Background(), "!abc:example.org")
	checkOutcome(t, o, IncorrectRequest, false, 0)
	if o.Requests != 0 || len(srv.requests()) != 2 {
		t.Errorf("an invalid alias was sent")
	}
}

func TestMembership(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.RequestURI, "@stranger") {
			reply(404, `{"errcode":"M_NOT_FOUND","error":"Event not found."}`)(w, r)
			return
		}
		reply(200, `{"membership":"join","displayname":"Bot"}`)(w, r)
	})
	c := newTestClient(srv.URL)
	membership, o := c.Membership(context.Background(), testRoom, "@bot:example.org")
	checkOutcome(t, o, Success, false, 0)
	if membership != MembershipJoin {
		t.Errorf("membership = %q", membership)
	}
	if uri := srv.requests()[0].RequestURI; uri != "/_matrix/client/v3/rooms/%21abc:example.org/state/m.room.member/@bot:example.org" {
		t.Errorf("RequestURI = %s", uri)
	}
	membership, o = c.Membership(context.Background(), testRoom, "@stranger:example.org")
	checkOutcome(t, o, NotFound, false, 0)
	if membership != "" {
		t.Errorf("membership = %q, want empty", membership)
	}
	for _, args := range [][2]string{{"#alias:example.org", "@bot:example.org"}, {"!abc:example.org", "bot"}} {
		_, o = c.Membership(context.Background(), RoomID(args[0]), UserID(args[1]))
		checkOutcome(t, o, IncorrectRequest, false, 0)
	}
	if n := len(srv.requests()); n != 2 {
		t.Errorf("server saw %d requests, want 2", n)
	}
}

func TestPowerLevels(t *testing.T) {
	tests := map[string]struct {
		body          string
		bot, stranger int
		invite        int
	}{
		"explicit":        {`{"users":{"@bot:example.org":100},"users_default":10,"invite":50}`, 100, 10, 50},
		"spec defaults":   {`{"users":{"@bot:example.org":50}}`, 50, 0, 0},
		"string levels":   {`{"users":{"@bot:example.org":"75"},"users_default":"5","invite":"25"}`, 75, 5, 25},
		"empty event":     {`{}`, 0, 0, 0},
		"negative levels": {`{"users_default":-1,"invite":-5}`, -1, -1, -5},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			srv := newTestServer(t, reply(200, tt.body))
			levels, o := newTestClient(srv.URL).PowerLevels(context.Background(), testRoom)
			checkOutcome(t, o, Success, false, 0)
			if levels.UserLevel("@bot:example.org") != tt.bot || levels.UserLevel("@stranger:example.org") != tt.stranger || levels.InviteLevel() != tt.invite {
				t.Errorf("levels = %+v", levels)
			}
			if uri := srv.requests()[0].RequestURI; uri != "/_matrix/client/v3/rooms/%21abc:example.org/state/m.room.power_levels" {
				t.Errorf("RequestURI = %s", uri)
			}
		})
	}
	srv := newTestServer(t, reply(200, `{"users":{"@bot:example.org":"high"}}`))
	if _, o := newTestClient(srv.URL).PowerLevels(context.Background(), testRoom); o.Status.Code != IncorrectResponse {
		t.Errorf("a non-numeric level gave %v", o.Status)
	}
}

func TestIdentityHashDetails(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testIDToken {
			reply(401, `{"errcode":"M_UNAUTHORIZED","error":"Unauthorized"}`)(w, r)
			return
		}
		reply(200, `{"lookup_pepper":"matrixrocks","algorithms":["none","sha256"]}`)(w, r)
	})
	c := newTestClient(srv.URL)
	idServer := strings.TrimPrefix(srv.URL, "http://")
	details, o := c.IdentityHashDetails(context.Background(), idServer, testIDToken)
	checkOutcome(t, o, Success, false, 0)
	if details.LookupPepper != "matrixrocks" || len(details.Algorithms) != 2 || details.Algorithms[1] != "sha256" {
		t.Errorf("details = %+v", details)
	}
	if uri := srv.requests()[0].RequestURI; uri != "/_matrix/identity/v2/hash_details" {
		t.Errorf("RequestURI = %s", uri)
	}
	_, o = c.IdentityHashDetails(context.Background(), idServer, "stale")
	checkOutcome(t, o, Unauthorised, false, 0)
	_, o = c.IdentityHashDetails(context.Background(), idServer, "")
	checkOutcome(t, o, Unauthorised, false, 0)
	if o.Requests != 0 || len(srv.requests()) != 2 {
		t.Error("a missing identity token was sent")
	}
}

func TestIdentityServerMustBeHostPort(t *testing.T) {
	c := newTestClient("http://unused.invalid")
	for _, idServer := range []string{"", "https://id.example.org", "id.example.org/path", "user@id.example.org",
		"id.example.org:", "id.example.org:99999", "id.example.org:http", "id example.org", "id.example.org?x", "[::1"} {
		_, o := c.IdentityHashDetails(context.Background(), idServer, testIDToken)
		checkOutcome(t, o, IncorrectRequest, false, 0)
		if o.Requests != 0 {
			t.Errorf("%q was sent", idServer)
		}
	}
	for _, ok := range []string{"id.example.org", "id.example.org:8090", "127.0.0.1:1", "[::1]:8090", "localhost"} {
		if err := checkIdentityServer(ok); err != nil {
			t.Errorf("checkIdentityServer(%q) = %v", ok, err)
		}
	}
}
