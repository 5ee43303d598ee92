package matrix

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestLookupHashAndCanonicalForm(t *testing.T) {
	// The spec's example: "alice@example.com email matrixrocks".
	if got, want := LookupHash("email", "Alice@Example.com", "matrixrocks"), "4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc"; got != want {
		t.Errorf("hash %s, want the spec's %s", got, want)
	}
	if CanonicalAddress("msisdn", "+4412345678") != "4412345678" || CanonicalAddress("email", " A@B.org ") != "a@b.org" {
		t.Error("canonical forms")
	}
}

// lookupIS serves hash_details and lookup with one pepper and one binding;
// stale says how many lookups answer M_INVALID_PEPPER first.
func lookupIS(pepper string, bound map[string]string, stale int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/_matrix/identity/v2/hash_details":
			reply(200, `{"lookup_pepper":"`+pepper+`","algorithms":["none","sha256"]}`)(w, r)
		case "/_matrix/identity/v2/lookup":
			var body struct {
				Pepper    string   `json:"pepper"`
				Addresses []string `json:"addresses"`
			}
			_ = json.NewDecoder(r.Body).Decode(&body)
			if stale > 0 || body.Pepper != pepper {
				stale--
				reply(400, `{"errcode":"M_INVALID_PEPPER","error":"stale"}`)(w, r)
				return
			}
			m := map[string]string{}
			for _, h := range body.Addresses {
				for addr, id := range bound {
					if LookupHash("email", addr, pepper) == h {
						m[h] = id
					}
				}
			}
			out, _ := json.Marshal(map[string]any{"mappings": m})
			reply(200, string(out))(w, r)
		default:
			reply(404, `{"errcode":"M_UNRECOGNIZED","error":"no"}`)(w, r)
		}
	}
}

func TestLookupBatch(t *testing.T) {
	srv := newTestServer(t, lookupIS("pep", map[string]string{"bound@example.org": "@b:example.org"}, 0))
	ic := newTestClient(srv.URL).Identity(identityHost(srv))
	pids := []ThreePID{{"email", "bound@example.org"}, {"email", "free@example.org"}}
	ans, o := ic.Lookup(context.Background(), testIDToken, "", pids)
	checkOutcome(t, o, Success, false, 0)
	if len(ans.Bound) != 1 || ans.Bound[pids[0]] != "@b:example.org" || ans.Pepper != "pep" || ans.NoV2 {
		t.Fatalf("answer %+v", ans)
	}
	seen := srv.requests()
	if len(seen) != 2 || seen[1].Authorization != "Bearer "+testIDToken || strings.Contains(seen[1].Body, "free@") {
		t.Errorf("requests %+v: want hash_details then one lookup of hashes, with a Bearer token", seen)
	}
	// With the pepper known, one request; a stale one costs a refetch.
	if _, o := ic.Lookup(context.Background(), testIDToken, "pep", pids); !o.Status.Good() || len(srv.requests()) != 3 {
		t.Errorf("with the pepper: %v, %d requests", o.Status, len(srv.requests()))
	}
	stale := newTestServer(t, lookupIS("new", map[string]string{"bound@example.org": "@b:example.org"}, 0))
	ans, o = stale.client(t).Lookup(context.Background(), testIDToken, "old", pids)
	if !o.Status.Good() || ans.Pepper != "new" || len(ans.Bound) != 1 || len(stale.requests()) != 3 {
		t.Errorf("stale pepper: %v %+v after %d requests", o.Status, ans, len(stale.requests()))
	}
}

func (s *testServer) client(t *testing.T) *IdentityClient {
	t.Helper()
	return newTestClient(s.URL).Identity(identityHost(s))
}

func TestLookupWithoutV2(t *testing.T) {
	for _, h := range []http.HandlerFunc{reply(404, `{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`), reply(404, `404 page not found`)} {
		srv := newTestServer(t, h)
		ans, o := srv.client(t).Lookup(context.Background(), testIDToken, "", []ThreePID{{"email", "a@example.org"}})
		if o.Status.Good() || !ans.NoV2 {
			t.Errorf("v1-only server: %v %+v", o.Status, ans)
		}
	}
	srv := newTestServer(t, reply(500, `{"errcode":"M_UNKNOWN","error":"boom"}`))
	if ans, _ := srv.client(t).Lookup(context.Background(), testIDToken, "", []ThreePID{{"email", "a@example.org"}}); ans.NoV2 {
		t.Error("a failing server is not a v1-only one")
	}
}

func TestInviteByUserID(t *testing.T) {
	srv := newTestServer(t, reply(200, `{}`))
	c := newTestClient(srv.URL)
	o := c.InviteByUserID(context.Background(), testRoom, "@b:example.org")
	checkOutcome(t, o, Success, false, 0)
	seen := srv.requests()
	if len(seen) != 1 || seen[0].Method != "POST" || !strings.HasSuffix(seen[0].RequestURI, "/invite") || seen[0].Body != `{"user_id":"@b:example.org"}` {
		t.Errorf("requests %+v", seen)
	}
	if o := c.InviteByUserID(context.Background(), testRoom, "b"); o.Status.Code != IncorrectRequest || o.Requests != 0 {
		t.Errorf("bad user: %v after %d requests", o.Status, o.Requests)
	}
	joined := newTestServer(t, reply(403, `{"errcode":"M_FORBIDDEN","error":"@b:example.org is already in the room."}`))
	if o := newTestClient(joined.URL).InviteByUserID(context.Background(), testRoom, "@b:example.org"); !AlreadyJoined(o) {
		t.Errorf("already joined not recognised: %+v", o)
	}
}

func TestJoinedMembers(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"chunk":[{"type":"m.room.member","state_key":"@a:x","content":{"membership":"join"}},{"type":"m.room.member","state_key":"@b:x","content":{"membership":"invite"}}]}`))
	m, o := newTestClient(srv.URL).JoinedMembers(context.Background(), testRoom)
	checkOutcome(t, o, Success, false, 0)
	if len(m) != 1 || !m["@a:x"] {
		t.Errorf("joined %v", m)
	}
	if seen := srv.requests(); len(seen) != 1 || !strings.HasSuffix(seen[0].RequestURI, "/members?membership=join") {
		t.Errorf("requests %+v", seen)
	}
}
