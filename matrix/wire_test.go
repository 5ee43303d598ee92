package matrix

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestInviteOnTheWire(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	o := invite(context.Background(), newTestClient(srv.URL))
	checkOutcome(t, o, Success, false, 0)
	if o.Requests != 1 || o.Method != "POST" || o.HTTPStatus != 200 || o.Ambiguous() {
		t.Errorf("outcome %+v", o)
	}
	seen := srv.requests()
	if len(seen) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(seen))
	}
	want := seenRequest{
		Method:        "POST",
		RequestURI:    "/_matrix/client/v3/rooms/%21abc:example.org/invite",
		Authorization: "Bearer " + testToken,
		ContentType:   "application/json",
		UserAgent:     DefaultUserAgent,
		Body:          `{"id_server":"id.example.org","id_access_token":"` + testIDToken + `","medium":"email","address":"alice@example.org"}`,
	}
	if seen[0] != want {
		t.Errorf("request\n got %+v\nwant %+v", seen[0], want)
	}
}

func TestInviteBodyKeepsEmptyFields(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	c := newTestClient(srv.URL, func(cfg *ClientConfig) { cfg.UserAgent = "custom/1" })
	c.InviteBy3PID(context.Background(), testRoom, "", "", "", "")
	seen := srv.requests()
	if len(seen) != 1 {
		t.Fatalf("server saw %d requests", len(seen))
	}
	if got, want := seen[0].Body, `{"id_server":"","id_access_token":"","medium":"","address":""}`; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if seen[0].UserAgent != "custom/1" {
		t.Errorf("User-Agent = %q", seen[0].UserAgent)
	}
}

func TestPathSegmentsAreEscaped(t *testing.T) {
	tests := []struct {
		base string // appended to the server URL
		room RoomID
		uri  string
	}{
		{"", "!abc:example.org", "/_matrix/client/v3/rooms/%21abc:example.org/invite"},
		{"/", "!abc:example.org", "/_matrix/client/v3/rooms/%21abc:example.org/invite"},
		{"/matrix/", "!abc:example.org", "/matrix/_matrix/client/v3/rooms/%21abc:example.org/invite"},
		{"", "!a/b?c#d:example.org:8448", "/_matrix/client/v3/rooms/%21a%2Fb%3Fc%23d:example.org:8448/invite"},
		{"", "!ünï:example.org", "/_matrix/client/v3/rooms/%21%C3%BCn%C3%AF:example.org/invite"},
		// Room version 12: no server part; "-" and "_" need no escaping.
		{"", v12Room, "/_matrix/client/v3/rooms/%2131hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM/invite"},
		{"/matrix", v12Room, "/matrix/_matrix/client/v3/rooms/%2131hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM/invite"},
	}
	for _, tt := range tests {
		t.Run(string(tt.room), func(t *testing.T) {
			srv := newTestServer(t, reply(200, "{}"))
			o := newTestClient(srv.URL+tt.base).InviteBy3PID(context.Background(), tt.room, testIDHost, testIDToken, "email", testAddress)
			checkOutcome(t, o, Success, false, 0)
			if seen := srv.requests(); len(seen) != 1 || seen[0].RequestURI != tt.uri {
				t.Errorf("RequestURI = %+v, want %s", seen, tt.uri)
			}
		})
	}
}

func TestInviteRejectsNonRoomIDs(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	c := newTestClient(srv.URL)
	for _, room := range []RoomID{"#alias:example.org", "", "!nocolon", "!:example.org", "!abc:",
		v12Room + "A", RoomID(v12Room[:43]), "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3og+M"} {
		o := c.InviteBy3PID(context.Background(), room, testIDHost, testIDToken, "email", testAddress, WithTxnID("t1"))
		checkOutcome(t, o, IncorrectRequest, false, 0)
		if o.Requests != 0 {
			t.Errorf("%q: Requests = %d", room, o.Requests)
		}
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestEscapeSegmentDotSegments(t *testing.T) {
	for in, want := range map[string]string{".": "%2E", "..": "%2E%2E", "...": "...", "a.b": "a.b", "a/b": "a%2Fb"} {
		if got := escapeSegment(in); got != want {
			t.Errorf("escapeSegment(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIDErrorsAreTyped(t *testing.T) {
	_, err := ParseRoomID("#alias:example.org")
	var idErr *IDError
	if !errors.Is(err, ErrInvalidRoomID) || !errors.As(err, &idErr) || idErr.Input != "#alias:example.org" {
		t.Errorf("err = %v", err)
	}
}

// TestV12RoomInEveryRoomPath checks that the calls naming a room send a
// version 12 ID percent-encoded as one path segment.
func TestV12RoomInEveryRoomPath(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"membership":"join","users":{}}`))
	c := newTestClient(srv.URL)
	ctx := context.Background()
	if _, o := c.Membership(ctx, v12Room, "@bot:example.org"); !o.Status.Good() {
		t.Fatalf("membership: %v", o.Status)
	}
	if _, o := c.PowerLevels(ctx, v12Room); !o.Status.Good() {
		t.Fatalf("power levels: %v", o.Status)
	}
	const room = "/_matrix/client/v3/rooms/%2131hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"
	want := []string{room + "/state/m.room.member/@bot:example.org", room + "/state/m.room.power_levels"}
	seen := srv.requests()
	if len(seen) != len(want) {
		t.Fatalf("server saw %+v", seen)
	}
	for i, w := range want {
		if seen[i].RequestURI != w {
			t.Errorf("request %d: %s, want %s", i, seen[i].RequestURI, w)
		}
	}
}

// TestResolveAliasToV12Room accepts a directory answer naming a version 12 room.
func TestResolveAliasToV12Room(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"room_id":"`+v12Room+`","servers":["example.org"]}`))
	id, o := newTestClient(srv.URL).ResolveAlias(context.Background(), "#room:example.org")
	if !o.Status.Good() || id != v12Room {
		t.Fatalf("ResolveAlias = %q, %v", id, o.Status)
	}
}

// WroteAt says when the request went out: after the call began, before it
// ended; zero when nothing was written.
func TestOutcomeSaysWhenTheRequestWasWritten(t *testing.T) {
	srv := newTestServer(t, reply(200, "{}"))
	before := time.Now()
	o := invite(context.Background(), newTestClient(srv.URL))
	after := time.Now()
	if o.WroteAt.Before(before) || o.WroteAt.After(after) {
		t.Fatalf("WroteAt %v, want between %v and %v", o.WroteAt, before, after)
	}
	o = invite(context.Background(), newTestClient("http://127.0.0.1:1"))
	if o.Requests != 0 || !o.WroteAt.IsZero() {
		t.Fatalf("refused connection: %d requests, WroteAt %v; want 0 and zero", o.Requests, o.WroteAt)
	}
}
