package matrix

import (
	"context"
	"io"
	"net/http"
	"testing"
)

func TestTxnInviteUsesPUTWhenSupported(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			reply(500, `{"errcode":"M_UNKNOWN","error":"POST not expected"}`)(w, r)
			return
		}
		reply(200, "{}")(w, r)
	})
	c := newTestClient(srv.URL)
	if known, _ := c.SupportsTxnInvite(); known {
		t.Fatal("a new client cannot know")
	}
	for i, txn := range []string{"txn/1", "txn 2"} {
		o := invite(context.Background(), c, WithTxnID(txn))
		checkOutcome(t, o, Success, false, 0)
		if o.Method != "PUT" || o.Requests != 1 {
			t.Errorf("call %d: Method=%s Requests=%d", i, o.Method, o.Requests)
		}
	}
	seen := srv.requests()
	wantURIs := []string{
		"/_matrix/client/v3/rooms/%21abc:example.org/invite/txn%2F1",
		"/_matrix/client/v3/rooms/%21abc:example.org/invite/txn%202",
	}
	for i, want := range wantURIs {
		if seen[i].RequestURI != want || seen[i].Body == "" || seen[i].Authorization != "Bearer "+testToken {
			t.Errorf("request %d = %+v, want URI %s", i, seen[i], want)
		}
	}
	if known, supported := c.SupportsTxnInvite(); !known || !supported {
		t.Errorf("SupportsTxnInvite = %v, %v; want true, true", known, supported)
	}
}

func TestTxnInviteFallsBackToPOST(t *testing.T) {
	tests := []struct {
		name    string
		refusal http.HandlerFunc
	}{
		{"404 M_UNRECOGNIZED", reply(404, `{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`)},
		{"405 M_UNRECOGNIZED", reply(405, `{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}`)},
		{"405 plain", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Allow", "POST")
			http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		}},
		{"404 without JSON", http.NotFound},
		{"404 empty", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut {
					tt.refusal(w, r)
					return
				}
				reply(200, "{}")(w, r)
			})
			c := newTestClient(srv.URL)
			first := invite(context.Background(), c, WithTxnID("t1"))
			checkOutcome(t, first, Success, false, 0)
			if first.Method != "POST" || first.Requests != 2 || first.HTTPStatus != 200 {
				t.Errorf("first call: Method=%s Requests=%d HTTPStatus=%d, want POST 2 200", first.Method, first.Requests, first.HTTPStatus)
			}
			if known, supported := c.SupportsTxnInvite(); !known || supported {
				t.Errorf("SupportsTxnInvite = %v, %v; want true, false", known, supported)
			}
			second := invite(context.Background(), c, WithTxnID("t2"))
			checkOutcome(t, second, Success, false, 0)
			if second.Method != "POST" || second.Requests != 1 {
				t.Errorf("second call: Method=%s Requests=%d, want POST 1", second.Method, second.Requests)
			}
			if puts, posts := srv.count("PUT"), srv.count("POST"); puts != 1 || posts != 2 {
				t.Errorf("server saw %d PUT and %d POST, want 1 and 2", puts, posts)
			}
			if uri := srv.requests()[1].RequestURI; uri != "/_matrix/client/v3/rooms/%21abc:example.org/invite" {
				t.Errorf("fallback URI = %s", uri)
			}
		})
	}
}

func TestTxnInviteUnknownRoomDoesNotFallBack(t *testing.T) {
	srv := newTestServer(t, reply(404, `{"errcode":"M_NOT_FOUND","error":"Unknown room"}`))
	c := newTestClient(srv.URL)
	o := invite(context.Background(), c, WithTxnID("t1"))
	checkOutcome(t, o, NotFound, false, 0)
	if o.Method != "PUT" || o.Requests != 1 || o.ErrCode != MNotFound {
		t.Errorf("Method=%s Requests=%d ErrCode=%s", o.Method, o.Requests, o.ErrCode)
	}
	if srv.count("POST") != 0 {
		t.Error("a 404 M_NOT_FOUND must not fall back to POST")
	}
	if known, supported := c.SupportsTxnInvite(); !known || !supported {
		t.Errorf("SupportsTxnInvite = %v, %v; a Matrix 404 shows the PUT handler exists", known, supported)
	}
}

func TestTxnInviteFailureKeepsPUTOutcome(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, "bad gateway")
	})
	c := newTestClient(srv.URL)
	o := invite(context.Background(), c, WithTxnID("t1"))
	checkOutcome(t, o, NetworkError, true, 0)
	if o.Method != "PUT" || srv.count("POST") != 0 || !o.Ambiguous() {
		t.Errorf("Method=%s posts=%d Ambiguous=%v", o.Method, srv.count("POST"), o.Ambiguous())
	}
	if known, _ := c.SupportsTxnInvite(); known {
		t.Error("a proxy's 502 tells nothing about the PUT form")
	}
}

func TestWithoutTxnIDAlwaysPOST(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	o := invite(context.Background(), newTestClient(srv.URL))
	if o.Method != "POST" || srv.count("PUT") != 0 {
		t.Errorf("Method=%s", o.Method)
	}
}
