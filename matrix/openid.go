package matrix

import (
	"context"
	"fmt"
	"net/http"
)

// OpenIDToken is the homeserver's answer to openid/request_token: a
// short-lived token (an hour on Synapse) that lets a third party, here an
// identity server, ask the homeserver who the user is. It is a secret:
// String hides it, and it is redacted wherever it could be echoed.
type OpenIDToken struct {
	// AccessToken is the OpenID token itself.
	AccessToken string `json:"access_token"`
	// TokenType is "Bearer".
	TokenType string `json:"token_type"`
	// MatrixServerName is the homeserver the identity server asks.
	MatrixServerName string `json:"matrix_server_name"`
	// ExpiresIn is the token's lifetime in seconds.
	ExpiresIn int `json:"expires_in"`
}

// String describes the token without its secret.
func (t OpenIDToken) String() string {
	return fmt.Sprintf("matrix.OpenIDToken{server: %q, token: %s, expires_in: %d}",
		t.MatrixServerName, tokenPresence(t.AccessToken), t.ExpiresIn)
}

// GoString is String, so that %#v does not print the token either.
func (t OpenIDToken) GoString() string { return t.String() }

// RequestOpenIDToken calls POST /_matrix/client/v3/user/{userId}/openid/request_token
// (spec: client-server API, "OpenID") with the body {}. user must be the
// token's own user (WhoAmI): homeservers refuse tokens for anyone else. An
// answer without an access_token or matrix_server_name is IncorrectResponse.
func (c *Client) RequestOpenIDToken(ctx context.Context, user UserID, opts ...CallOption) (OpenIDToken, Outcome) {
	if _, err := ParseUserID(string(user)); err != nil {
		return OpenIDToken{}, c.rejected(ctx, err)
	}
	cl := call{method: http.MethodPost, token: c.cfg.AccessToken, body: []byte("{}"), opts: resolveOptions(opts)}
	cl.url, cl.urlErr = c.clientURL("user", string(user), "openid", "request_token")
	o, body := c.do(ctx, cl)
	var tok OpenIDToken
	o = decodeInto(o, body, &tok)
	c.resample(&o, cl, body, tok.AccessToken)
	switch {
	case !o.Status.Good():
		return OpenIDToken{}, o
	case tok.AccessToken == "" || tok.MatrixServerName == "":
		return OpenIDToken{}, incorrectResponse(o, "openid/request_token: the answer lacks access_token or matrix_server_name")
	}
	return tok, o
}
