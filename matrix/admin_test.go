package matrix

import (
	"context"
	"net/http"
	"sync"
	"testing"
)

// fakeOverrides is Synapse's override_ratelimit endpoint for one admin
// token, keeping one override per user.
func fakeOverrides(t *testing.T) *testServer {
	var mu sync.Mutex
	stored := map[string]string{}
	var srv *testServer
	srv = newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			reply(403, `{"errcode":"M_FORBIDDEN","error":"You are not a server admin"}`)(w, r)
			return
		}
		user := r.URL.EscapedPath()
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case "GET":
			body, ok := stored[user]
			if !ok {
				body = "{}"
			}
			reply(200, body)(w, r)
		case "POST": // the test server has read the body already
			seen := srv.requests()
			body := seen[len(seen)-1].Body
			stored[user] = body
			reply(200, body)(w, r)
		case "DELETE":
			delete(stored, user)
			reply(200, "{}")(w, r)
		}
	})
	return srv
}

func TestOverrideRatelimitLifecycle(t *testing.T) {
	srv := fakeOverrides(t)
	c := newTestClient(srv.URL)
	ctx := context.Background()
	const user = UserID("@bot:example.org")
	if r, found, o := c.OverrideRatelimit(ctx, user); !o.Status.Good() || found || r != (RatelimitOverride{}) {
		t.Fatalf("before: %+v %v %v", r, found, o.Status)
	}
	if o := c.SetOverrideRatelimit(ctx, user, RatelimitOverride{}); !o.Status.Good() {
		t.Fatalf("set: %v", o.Status)
	}
	r, found, o := c.OverrideRatelimit(ctx, user)
	if !o.Status.Good() || !found || !r.Unlimited() {
		t.Fatalf("after lift: %+v %v %v", r, found, o.Status)
	}
	if o := c.SetOverrideRatelimit(ctx, user, RatelimitOverride{MessagesPerSecond: 2, BurstCount: 10}); !o.Status.Good() {
		t.Fatalf("set: %v", o.Status)
	}
	if r, found, _ := c.OverrideRatelimit(ctx, user); !found || r != (RatelimitOverride{2, 10}) || r.Unlimited() {
		t.Fatalf("after set: %+v %v", r, found)
	}
	if o := c.DeleteOverrideRatelimit(ctx, user); !o.Status.Good() {
		t.Fatalf("delete: %v", o.Status)
	}
	if _, found, _ := c.OverrideRatelimit(ctx, user); found {
		t.Fatal("still found after delete")
	}
	const path = "/_synapse/admin/v1/users/@bot:example.org/override_ratelimit"
	want := []string{"GET", "POST " + `{"messages_per_second":0,"burst_count":0}`, "GET", "POST " + `{"messages_per_second":2,"burst_count":10}`, "GET", "DELETE", "GET"}
	seen := srv.requests()
	if len(seen) != len(want) {
		t.Fatalf("requests %+v", seen)
	}
	for i, w := range want {
		got := seen[i].Method
		if seen[i].Body != "" {
			got += " " + seen[i].Body
		}
		if got != w || seen[i].RequestURI != path {
			t.Errorf("request %d: %s %s, want %s %s", i, got, seen[i].RequestURI, w, path)
		}
	}
}

func TestOverrideRatelimitRefusals(t *testing.T) {
	srv := fakeOverrides(t)
	ctx := context.Background()
	notAdmin := newTestClient(srv.URL, func(cfg *ClientConfig) { cfg.AccessToken = "user-token" })
	if _, found, o := notAdmin.OverrideRatelimit(ctx, "@bot:example.org"); found || o.Status.Code != ContentAccessError || o.ErrCode != MForbidden {
		t.Errorf("not admin: %v %v %s", found, o.Status, o.ErrCode)
	}
	if o := notAdmin.SetOverrideRatelimit(ctx, "@bot:example.org", RatelimitOverride{}); o.Status.Code != ContentAccessError {
		t.Errorf("not admin, set: %v", o.Status)
	}
	if _, _, o := newTestClient(srv.URL).OverrideRatelimit(ctx, "bot"); o.Status.Code != IncorrectRequest || o.Requests != 0 {
		t.Errorf("bad user: %v", o.Status)
	}
	for _, body := range []string{`{"messages_per_second":"0"}`, `{"messages_per_second":0.5,"burst_count":1}`, `[]`} {
		odd := newTestServer(t, reply(200, body))
		if _, found, o := newTestClient(odd.URL).OverrideRatelimit(ctx, "@bot:example.org"); found || o.Status.Code != IncorrectResponse {
			t.Errorf("%s: %v %v", body, found, o.Status)
		}
	}
}
