package matrix

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// What a Client has learnt about PUT /rooms/{roomId}/invite/{txnId}.
const (
	txnInviteUnknown int32 = iota
	txnInviteSupported
	txnInviteUnsupported
)

// Client calls one homeserver as one user. It is safe for concurrent use.
type Client struct {
	cfg           ClientConfig // with defaults applied
	http          *http.Client
	homeserver    *url.URL // nil when HomeserverURL is invalid
	homeserverErr error    // why it is invalid; every call reports it
	txnInvite     atomic.Int32
}

// NewClient never fails: like libQuotient's jobs, a call made with a missing
// token or an invalid homeserver URL returns an Outcome (Unauthorised or
// IncorrectRequest) without sending anything, so callers handle every
// problem in one place. Use ClientConfig.Validate to check a config early.
// Negative MaxBodyBytes or MaxRetryAfter count as their defaults.
func NewClient(cfg ClientConfig) *Client {
	cfg = cfg.WithDefaults()
	if cfg.MaxBodyBytes < 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxRetryAfter < 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	c := &Client{cfg: cfg, http: cfg.HTTPClient}
	c.homeserver, c.homeserverErr = parseHomeserverURL(cfg.HomeserverURL)
	return c
}

// String describes the client without its access token.
func (c *Client) String() string {
	if c == nil {
		return "matrix.Client(nil)"
	}
	return fmt.Sprintf("matrix.Client{homeserver: %s, token: %s}",
		displayURL(c.cfg.HomeserverURL, c.cfg.AccessToken), tokenPresence(c.cfg.AccessToken))
}

// GoString is String, so that %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// SupportsTxnInvite reports what the client learnt about the idempotent
// PUT invite form: known is false until a PUT got a telling answer.
func (c *Client) SupportsTxnInvite() (known, supported bool) {
	switch c.txnInvite.Load() {
	case txnInviteSupported:
		return true, true
	case txnInviteUnsupported:
		return true, false
	}
	return false, false
}

// clientURL builds homeserver + "/_matrix/client/v3/" + segments. Each
// segment is percent-encoded on its own, and RawPath is set, so "!abc:x" is
// sent as "%21abc:x" and a "/" inside an ID cannot change the endpoint.
func (c *Client) clientURL(segments ...string) (*url.URL, error) {
	if c.homeserverErr != nil {
		return nil, c.homeserverErr
	}
	return joinPath(c.homeserver, append([]string{"_matrix", "client", "v3"}, segments...)...), nil
}

// joinPath appends escaped segments to base's path, keeping base's prefix.
func joinPath(base *url.URL, segments ...string) *url.URL {
	u := *base
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	plain := strings.TrimRight(base.Path, "/")
	raw := strings.TrimRight(base.EscapedPath(), "/")
	for _, s := range segments {
		plain += "/" + s
		raw += "/" + escapeSegment(s)
	}
	u.Path, u.RawPath = plain, raw
	return &u
}

// escapeSegment is url.PathEscape, plus "." and ".." escaped so that a
// client-chosen segment (a txnId) cannot be collapsed by a proxy.
func escapeSegment(s string) string {
	if s == "." || s == ".." {
		return strings.ReplaceAll(s, ".", "%2E")
	}
	return url.PathEscape(s)
}
