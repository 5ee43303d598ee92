package matrix

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestServerEchoingTokensIsRedacted(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		echo := fmt.Sprintf(`{"errcode":"M_FORBIDDEN","error":"bad header %s and id token %s"}`,
			r.Header.Get("Authorization"), testIDToken)
		reply(403, echo)(w, r)
	})
	o := invite(context.Background(), newTestClient(srv.URL))
	for name, text := range map[string]string{"message": o.Status.Message, "server error": o.ServerError, "body sample": string(o.BodySample), "status": o.Status.String()} {
		if strings.Contains(text, testToken) || strings.Contains(text, testIDToken) {
			t.Errorf("%s leaks a token: %q", name, text)
		}
		if !strings.Contains(text, "(REDACTED)") {
			t.Errorf("%s has no (REDACTED): %q", name, text)
		}
	}
}

func TestTransportErrorWithURLIsRedacted(t *testing.T) {
	// A token in the homeserver URL's path is a misconfiguration, but the
	// transport error quotes the URL and must still not show it.
	base := closedPortURL(t) + "/" + testToken + "/"
	o := invite(context.Background(), newTestClient(base))
	checkOutcome(t, o, NetworkError, true, 0)
	if strings.Contains(o.Status.Message, testToken) || !strings.Contains(o.Status.Message, "(REDACTED)") {
		t.Errorf("message = %q", o.Status.Message)
	}
	if !strings.Contains(o.Status.Message, "/_matrix/client/v3/rooms/") {
		t.Errorf("message %q should still quote the URL", o.Status.Message)
	}
}

func TestStringsNeverShowTheToken(t *testing.T) {
	cfg := ClientConfig{HomeserverURL: "https://matrix.example.org", AccessToken: testToken}
	c := NewClient(cfg)
	bad := NewClient(ClientConfig{HomeserverURL: "https://ex ample.org/" + testToken, AccessToken: testToken})
	for _, text := range []string{
		c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(bad),
		cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg),
		fmt.Sprintf("%v", invite(context.Background(), bad)),
	} {
		if strings.Contains(text, testToken) {
			t.Errorf("leaks the token: %s", text)
		}
	}
	if got := c.String(); got != `matrix.Client{homeserver: "https://matrix.example.org", token: (REDACTED)}` {
		t.Errorf("String() = %s", got)
	}
	var nilClient *Client
	if nilClient.String() != "matrix.Client(nil)" {
		t.Error("nil client String")
	}
}

func TestLogsAreDebugAndTokenFree(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		reply(403, `{"errcode":"M_FORBIDDEN","error":"`+r.Header.Get("Authorization")+`"}`)(w, r)
	})
	var buf bytes.Buffer
	ctx := zerolog.New(&buf).Level(zerolog.DebugLevel).WithContext(context.Background())
	invite(ctx, newTestClient(srv.URL), WithTxnID("t1"))
	logs := buf.String()
	if !strings.Contains(logs, `"level":"debug"`) || !strings.Contains(logs, `"status":"ContentAccessError"`) {
		t.Errorf("expected a debug line with the status, got %s", logs)
	}
	if strings.Contains(logs, testToken) || strings.Contains(logs, testIDToken) {
		t.Errorf("logs leak a token: %s", logs)
	}

	buf.Reset()
	quiet := zerolog.New(&buf).Level(zerolog.InfoLevel).WithContext(context.Background())
	invite(quiet, newTestClient(srv.URL))
	if buf.Len() != 0 {
		t.Errorf("info-level logger got %s", buf.String())
	}
}

func TestRedactor(t *testing.T) {
	r := newRedactor("", "abc", "abcdef", "a b/c")
	tests := map[string]string{
		"":                                "",
		"no secret":                       "no secret",
		"x abcdef y abc z":                "x (REDACTED) y (REDACTED) z",
		"a+b%2Fc and a%20b%2Fc and a b/c": "(REDACTED) and (REDACTED) and (REDACTED)",
	}
	for in, want := range tests {
		if got := r.String(in); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
		if got := string(r.Bytes([]byte(in))); got != want {
			t.Errorf("Bytes(%q) = %q, want %q", in, got, want)
		}
	}
	if got := newRedactor("").String("keep"); got != "keep" {
		t.Errorf("empty secret changed the text: %q", got)
	}
}
