package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrInvalidIdentityServer is wrapped by errors about an id_server value.
var ErrInvalidIdentityServer = errors.New("matrix: invalid identity server")

// HashDetails is the identity server's answer to hash_details.
type HashDetails struct {
	// LookupPepper is the pepper for hashed 3PID lookups.
	LookupPepper string `json:"lookup_pepper"`
	// Algorithms lists the supported hash algorithms ("sha256", "none").
	Algorithms []string `json:"algorithms"`
}

// IdentityClient calls one identity server (identity service API v2,
// spec: "Identity Service API") through its Client's request→Outcome path,
// with the Client's HTTP client, limits and User-Agent. Identity tokens are
// only ever sent as Bearer headers (MSC4127 removes query-string tokens),
// and are redacted from every message like the homeserver token. It is
// safe for concurrent use.
type IdentityClient struct {
	c      *Client
	server string   // hostname[:port], as given
	base   *url.URL // nil when server is invalid
	err    error    // why server is invalid; every call reports it, sending nothing
}

// Identity returns a client for the identity server idServer
// (hostname[:port], the form an invite's id_server takes), reached with
// ClientConfig.IdentityScheme: https by default, http for the simulator. A
// scheme, path or user info in idServer makes every call an
// IncorrectRequest that sends nothing.
func (c *Client) Identity(idServer string) *IdentityClient {
	ic := &IdentityClient{c: c, server: idServer}
	if ic.err = checkIdentityServer(idServer); ic.err == nil {
		ic.base = &url.URL{Scheme: c.cfg.IdentityScheme, Host: idServer}
	}
	return ic
}

// Server returns the identity server as given, hostname[:port].
func (ic *IdentityClient) Server() string { return ic.server }

// String names the identity server; an IdentityClient holds no token.
func (ic *IdentityClient) String() string {
	return fmt.Sprintf("matrix.IdentityClient{server: %q}", ic.server)
}

// newCall describes a call to /_matrix/identity/v2/{segments}. An empty
// token makes the call anonymous (register, terms): no Authorization.
func (ic *IdentityClient) newCall(method, token string, body []byte, opts []CallOption, segments ...string) call {
	cl := call{method: method, token: token, anonymous: token == "", body: body, opts: resolveOptions(opts)}
	if ic.err != nil {
		cl.urlErr = ic.err
		return cl
	}
	cl.url = joinPath(ic.base, append([]string{"_matrix", "identity", "v2"}, segments...)...)
	return cl
}

// HashDetails calls GET /_matrix/identity/v2/hash_details (spec: identity
// service API, "GET /_matrix/identity/v2/hash_details") with token as Bearer
// token. Synapse makes this call first for every 3PID invite, so a
// preflight here finds a dead identity server or a stale token before the
// homeserver turns it into a 500.
func (ic *IdentityClient) HashDetails(ctx context.Context, token string, opts ...CallOption) (HashDetails, Outcome) {
	if token == "" {
		return HashDetails{}, ic.c.rejectedCall(ctx, ic.newCall(http.MethodGet, "", nil, opts, "hash_details"), "no identity access token")
	}
	var details HashDetails
	o := ic.c.doJSON(ctx, ic.newCall(http.MethodGet, token, nil, opts, "hash_details"), &details)
	if !o.Status.Good() {
		return HashDetails{}, o
	}
	return details, o
}

// IdentityHashDetails is Identity(idServer).HashDetails(ctx, idAccessToken).
func (c *Client) IdentityHashDetails(ctx context.Context, idServer, idAccessToken string, opts ...CallOption) (HashDetails, Outcome) {
	return c.Identity(idServer).HashDetails(ctx, idAccessToken, opts...)
}

// Register calls POST /_matrix/identity/v2/account/register (spec: identity
// service API, "POST /_matrix/identity/v2/account/register") with the
// OpenID token as body, and returns the identity token the server issued:
// "token" (the spec's name), else "access_token" (Sydent sends both). An
// answer with neither is IncorrectResponse. The OpenID token and the new
// token are redacted from the Outcome.
func (ic *IdentityClient) Register(ctx context.Context, openID OpenIDToken, opts ...CallOption) (string, Outcome) {
	body, _ := json.Marshal(openID) // plain strings and an int cannot fail
	cl := ic.newCall(http.MethodPost, "", body, opts, "account", "register")
	cl.secrets = []string{openID.AccessToken}
	o, raw := ic.c.do(ctx, cl)
	var resp struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	o = decodeInto(o, raw, &resp)
	ic.c.resample(&o, cl, raw, resp.Token, resp.AccessToken)
	token := resp.Token
	if token == "" {
		token = resp.AccessToken
	}
	switch {
	case !o.Status.Good():
		return "", o
	case token == "":
		return "", incorrectResponse(o, "account/register: the answer has neither token nor access_token")
	}
	return token, o
}

// Account calls GET /_matrix/identity/v2/account (spec: identity service
// API, "GET /_matrix/identity/v2/account") and returns the user the token
// belongs to. A bad token is 401 M_UNAUTHORIZED (Unauthorised); Sydent
// answers 403 M_TERMS_NOT_SIGNED (ContentAccessError) until the current
// terms are accepted.
func (ic *IdentityClient) Account(ctx context.Context, token string, opts ...CallOption) (UserID, Outcome) {
	if token == "" {
		return "", ic.c.rejectedCall(ctx, ic.newCall(http.MethodGet, "", nil, opts, "account"), "no identity access token")
	}
	var resp struct {
		UserID string `json:"user_id"`
	}
	o := ic.c.doJSON(ctx, ic.newCall(http.MethodGet, token, nil, opts, "account"), &resp)
	if !o.Status.Good() {
		return "", o
	}
	user, err := ParseUserID(resp.UserID)
	if err != nil {
		return "", incorrectResponse(o, "account: "+err.Error())
	}
	return user, o
}

// checkIdentityServer accepts hostname[:port] only, because the homeserver
// receives the same value as id_server and builds its own https URL from it.
func checkIdentityServer(idServer string) error {
	fail := func(problem string) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidIdentityServer, idServer, problem)
	}
	switch {
	case idServer == "":
		return fail("empty")
	case strings.Contains(idServer, "://"):
		return fail("must be hostname[:port], without a scheme")
	case strings.Contains(idServer, "@"):
		return fail("must not contain user info")
	case strings.ContainsAny(idServer, "/\\"):
		return fail("must not contain a path")
	case strings.ContainsAny(idServer, "?#") || strings.IndexFunc(idServer, badIDRune) >= 0:
		return fail("contains a character not allowed in hostname[:port]")
	}
	u, err := url.Parse("https://" + idServer)
	if err != nil || u.Host != idServer || u.Hostname() == "" {
		return fail("not a valid hostname[:port]")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fail("invalid port")
		}
	} else if strings.HasSuffix(idServer, ":") {
		return fail("empty port")
	}
	return nil
}
