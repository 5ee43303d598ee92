package matrix

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

const testOpenID = "oidc_SECRET_openid_42"

func TestRequestOpenIDToken(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"access_token":"`+testOpenID+`","token_type":"Bearer","matrix_server_name":"example.org","expires_in":3600}`))
	tok, o := newTestClient(srv.URL).RequestOpenIDToken(context.Background(), "@bot:example.org")
	checkOutcome(t, o, Success, false, 0)
	want := OpenIDToken{AccessToken: testOpenID, TokenType: "Bearer", MatrixServerName: "example.org", ExpiresIn: 3600}
	if tok != want {
		t.Errorf("token %+v", tok)
	}
	seen := srv.requests()
	if len(seen) != 1 || seen[0].Method != "POST" || seen[0].RequestURI != "/_matrix/client/v3/user/@bot:example.org/openid/request_token" ||
		seen[0].Body != "{}" || seen[0].Authorization != "Bearer "+testToken {
		t.Errorf("requests %+v", seen)
	}
	if strings.Contains(string(o.BodySample), testOpenID) || !strings.Contains(string(o.BodySample), redactedText) {
		t.Errorf("BodySample %q", o.BodySample)
	}
	for _, s := range []string{tok.String(), tok.GoString()} {
		if strings.Contains(s, testOpenID) {
			t.Errorf("String shows the token: %s", s)
		}
	}
}

func TestRequestOpenIDTokenFailures(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"token_type":"Bearer"}`))
	c := newTestClient(srv.URL)
	if _, o := c.RequestOpenIDToken(context.Background(), "@bot:example.org"); o.Status.Code != IncorrectResponse {
		t.Errorf("an answer without a token gave %v", o.Status)
	}
	if _, o := c.RequestOpenIDToken(context.Background(), "bot"); o.Status.Code != IncorrectRequest || o.Requests != 0 {
		t.Errorf("a bad user ID gave %v after %d requests", o.Status, o.Requests)
	}
	forbidden := newTestServer(t, reply(403, `{"errcode":"M_FORBIDDEN","error":"Cannot request tokens for other users."}`))
	if _, o := newTestClient(forbidden.URL).RequestOpenIDToken(context.Background(), "@other:example.org"); o.Status.Code != ContentAccessError {
		t.Errorf("403 gave %v", o.Status)
	}
}

// identityHost is the test server as id_server.
func identityHost(srv *testServer) string { return strings.TrimPrefix(srv.URL, "http://") }

func TestRegister(t *testing.T) {
	openID := OpenIDToken{AccessToken: testOpenID, TokenType: "Bearer", MatrixServerName: "example.org", ExpiresIn: 3600}
	tests := []struct {
		name, answer string
		code         StatusCode
		token        string
	}{
		{"spec token", `{"token":"` + testIDToken + `"}`, Success, testIDToken},
		{"sydent sends both", `{"token":"` + testIDToken + `","access_token":"` + testIDToken + `"}`, Success, testIDToken},
		{"access_token only", `{"access_token":"` + testIDToken + `"}`, Success, testIDToken},
		{"neither", `{"user_id":"@bot:example.org"}`, IncorrectResponse, ""},
		{"not JSON", `token`, IncorrectResponse, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, reply(200, tt.answer))
			token, o := newTestClient("http://unused.invalid").Identity(identityHost(srv)).Register(context.Background(), openID)
			if o.Status.Code != tt.code || token != tt.token {
				t.Fatalf("Register = %q, %v", token, o.Status)
			}
			seen := srv.requests()
			if len(seen) != 1 || seen[0].Method != "POST" || seen[0].RequestURI != "/_matrix/identity/v2/account/register" ||
				seen[0].Authorization != "" || seen[0].ContentType != "application/json" ||
				seen[0].Body != `{"access_token":"`+testOpenID+`","token_type":"Bearer","matrix_server_name":"example.org","expires_in":3600}` {
				t.Errorf("requests %+v", seen)
			}
			if strings.Contains(string(o.BodySample), testIDToken) || strings.Contains(o.Status.Message, testIDToken) {
				t.Errorf("the new token leaks: %q / %q", o.BodySample, o.Status.Message)
			}
		})
	}
}

func TestRegisterRefusedRedactsTheOpenIDToken(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		reply(401, `{"errcode":"M_UNAUTHORIZED","error":"Unable to validate `+testOpenID+`"}`)(w, r)
	})
	_, o := newTestClient("http://unused.invalid").Identity(identityHost(srv)).Register(context.Background(), OpenIDToken{AccessToken: testOpenID})
	if o.Status.Code != Unauthorised || o.ErrCode != MUnauthorized {
		t.Fatalf("%v %s", o.Status, o.ErrCode)
	}
	if strings.Contains(o.Status.Message+o.ServerError+string(o.BodySample), testOpenID) {
		t.Errorf("the OpenID token leaks: %q", o.Status.Message)
	}
}

func TestAccount(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer " + testIDToken:
			reply(200, `{"user_id":"@bot:example.org"}`)(w, r)
		case "Bearer unsigned":
			reply(403, `{"errcode":"M_TERMS_NOT_SIGNED","error":"Terms not signed"}`)(w, r)
		case "Bearer odd":
			reply(200, `{"user_id":"bot"}`)(w, r)
		default:
			reply(401, `{"errcode":"M_UNAUTHORIZED","error":"Unauthorized"}`)(w, r)
		}
	})
	ic := newTestClient("http://unused.invalid").Identity(identityHost(srv))
	ctx := context.Background()
	if user, o := ic.Account(ctx, testIDToken); user != "@bot:example.org" || !o.Status.Good() {
		t.Errorf("Account = %q, %v", user, o.Status)
	}
	if seen := srv.requests(); seen[0].Method != "GET" || seen[0].RequestURI != "/_matrix/identity/v2/account" {
		t.Errorf("request %+v", seen[0])
	}
	if _, o := ic.Account(ctx, "unsigned"); o.Status.Code != ContentAccessError || o.ErrCode != MTermsNotSigned {
		t.Errorf("unsigned terms: %v %s", o.Status, o.ErrCode)
	}
	if _, o := ic.Account(ctx, "stale"); o.Status.Code != Unauthorised || o.ErrCode != MUnauthorized {
		t.Errorf("stale token: %v %s", o.Status, o.ErrCode)
	}
	if _, o := ic.Account(ctx, "odd"); o.Status.Code != IncorrectResponse {
		t.Errorf("a bad user_id: %v", o.Status)
	}
	before := len(srv.requests())
	if _, o := ic.Account(ctx, ""); o.Status.Code != Unauthorised || o.Requests != 0 || len(srv.requests()) != before {
		t.Errorf("an empty token: %v, sent %d", o.Status, o.Requests)
	}
	// Tokens go only in the Authorization header, never in the URL.
	for _, r := range srv.requests() {
		if strings.Contains(r.RequestURI, "access_token") || strings.Contains(r.RequestURI, testIDToken) {
			t.Errorf("a token in the URL: %s", r.RequestURI)
		}
	}
}

func TestTerms(t *testing.T) {
	srv := newTestServer(t, reply(200, `{"policies":{
		"terms_of_service":{"version":"2.0","fr":{"name":"Conditions","url":"https://id.example.org/tos-fr"},"en":{"name":"Terms of Service","url":"https://id.example.org/tos-en"}},
		"privacy_policy":{"version":"1.2","de":{"name":"Datenschutz","url":"https://id.example.org/pp-de"},"cs":{"name":"Soukromí","url":"https://id.example.org/pp-cs"}},
		"broken":{"version":"1","en":"not an object"},
		"no_url":{"version":"1","en":{"name":"Nothing"}},
		"odd_version":{"version":3,"en":{"name":"Odd","url":"https://id.example.org/odd"}}
	}}`))
	terms, o := newTestClient("http://unused.invalid").Identity(identityHost(srv)).Terms(context.Background())
	checkOutcome(t, o, Success, false, 0)
	want := []TermsDocument{
		{Name: "odd_version", Version: "", Language: "en", Title: "Odd", URL: "https://id.example.org/odd"},
		{Name: "privacy_policy", Version: "1.2", Language: "cs", Title: "Soukromí", URL: "https://id.example.org/pp-cs"},
		{Name: "terms_of_service", Version: "2.0", Language: "en", Title: "Terms of Service", URL: "https://id.example.org/tos-en"},
	}
	if len(terms.Documents) != len(want) {
		t.Fatalf("documents %+v", terms.Documents)
	}
	for i := range want {
		if terms.Documents[i] != want[i] {
			t.Errorf("document %d = %+v, want %+v", i, terms.Documents[i], want[i])
		}
	}
	if got := strings.Join(terms.URLs(), " "); got != "https://id.example.org/odd https://id.example.org/pp-cs https://id.example.org/tos-en" {
		t.Errorf("URLs %s", got)
	}
	if seen := srv.requests(); len(seen) != 1 || seen[0].RequestURI != "/_matrix/identity/v2/terms" || seen[0].Authorization != "" {
		t.Errorf("requests %+v", seen)
	}

	empty := newTestServer(t, reply(200, `{"policies":{}}`))
	if terms, o := newTestClient("http://unused.invalid").Identity(identityHost(empty)).Terms(context.Background()); !o.Status.Good() || len(terms.Documents) != 0 {
		t.Errorf("no policies: %+v %v", terms, o.Status)
	}
}

func TestAcceptTerms(t *testing.T) {
	srv := newTestServer(t, reply(200, `{}`))
	ic := newTestClient("http://unused.invalid").Identity(identityHost(srv))
	o := ic.AcceptTerms(context.Background(), testIDToken, []string{"https://id.example.org/tos-en", "https://id.example.org/pp-cs"})
	checkOutcome(t, o, Success, false, 0)
	seen := srv.requests()
	if len(seen) != 1 || seen[0].Method != "POST" || seen[0].RequestURI != "/_matrix/identity/v2/terms" ||
		seen[0].Authorization != "Bearer "+testIDToken ||
		seen[0].Body != `{"user_accepts":["https://id.example.org/tos-en","https://id.example.org/pp-cs"]}` {
		t.Errorf("requests %+v", seen)
	}
	if o := ic.AcceptTerms(context.Background(), "", nil); o.Status.Code != Unauthorised || len(srv.requests()) != 1 {
		t.Errorf("an empty token: %v", o.Status)
	}
}

func TestIdentityClientRejectsBadServer(t *testing.T) {
	c := newTestClient("http://unused.invalid")
	for _, bad := range []string{"https://id.example.org", "id.example.org/x", ""} {
		ic := c.Identity(bad)
		if _, o := ic.Terms(context.Background()); o.Status.Code != IncorrectRequest || o.Requests != 0 {
			t.Errorf("%q: Terms %v", bad, o.Status)
		}
		if _, o := ic.Register(context.Background(), OpenIDToken{AccessToken: "x"}); o.Status.Code != IncorrectRequest || o.Requests != 0 {
			t.Errorf("%q: Register %v", bad, o.Status)
		}
		if _, o := ic.Account(context.Background(), testIDToken); o.Status.Code != IncorrectRequest || o.Requests != 0 {
			t.Errorf("%q: Account %v", bad, o.Status)
		}
	}
}
