package matrix

import (
	"context"
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

// IdentityHashDetails calls GET /_matrix/identity/v2/hash_details on the
// identity server (spec: identity service API, "GET /_matrix/identity/v2/hash_details")
// with idAccessToken as Bearer token. Synapse makes this call first for every
// 3PID invite, so a preflight here finds a dead identity server or a stale
// token before the homeserver turns it into a 500.
//
// idServer is hostname[:port] as in the invite body; a scheme, path or user
// info is an IncorrectRequest and nothing is sent. ClientConfig.IdentityScheme
// chooses https (default) or http.
func (c *Client) IdentityHashDetails(ctx context.Context, idServer, idAccessToken string, opts ...CallOption) (HashDetails, Outcome) {
	cl := call{method: http.MethodGet, token: idAccessToken, opts: resolveOptions(opts)}
	if err := checkIdentityServer(idServer); err != nil {
		cl.urlErr = err
	} else {
		base := &url.URL{Scheme: c.cfg.IdentityScheme, Host: idServer}
		cl.url = joinPath(base, "_matrix", "identity", "v2", "hash_details")
	}
	o, body := c.do(ctx, cl)
	var details HashDetails
	o = decodeInto(o, body, &details)
	if !o.Status.Good() {
		return HashDetails{}, o
	}
	return details, o
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
