package matrix

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by ClientConfig.WithDefaults and the call options.
const (
	// Version is the mxinvite version announced in the default User-Agent.
	Version = "0.1.0-dev"
	// DefaultUserAgent is sent when ClientConfig.UserAgent is empty.
	DefaultUserAgent = "mxinvite/" + Version
	// DefaultMaxBodyBytes caps how much of a response body is read (1 MiB).
	DefaultMaxBodyBytes int64 = 1 << 20
	// DefaultMaxRetryAfter is the ceiling for a server-advised 429 delay.
	DefaultMaxRetryAfter = time.Hour
	// DefaultIdentityScheme is the scheme used to reach identity servers.
	DefaultIdentityScheme = "https"
	// DefaultMaxRedirects is how many redirects the default HTTP client follows.
	DefaultMaxRedirects = 5
	// DefaultCallTimeout is the per-attempt deadline when WithTimeout is not given.
	DefaultCallTimeout = 30 * time.Second
	// DefaultRetryInterval is the 429 fallback delay when WithRetryInterval is
	// not given: the first wait of DefaultRetryPolicy.
	DefaultRetryInterval = 2 * time.Second
)

// Sentinel errors of ClientConfig.Validate; the returned errors wrap them.
var (
	// ErrInvalidHomeserverURL: HomeserverURL is empty, unparseable, not
	// http(s), or has no host.
	ErrInvalidHomeserverURL = errors.New("matrix: invalid homeserver URL")
	// ErrMissingAccessToken: AccessToken is empty.
	ErrMissingAccessToken = errors.New("matrix: missing access token")
	// ErrInvalidConfig: another ClientConfig field has an invalid value.
	ErrInvalidConfig = errors.New("matrix: invalid client config")
)

// ClientConfig configures a Client. The zero value of every field but
// HomeserverURL and AccessToken means "use the default".
type ClientConfig struct {
	// HomeserverURL is the base URL of the client-server API, e.g.
	// "https://matrix.example.org". It must be http or https with a host; a
	// path prefix is kept.
	HomeserverURL string

	// AccessToken is the inviter's access token. It is sent as a Bearer
	// header and redacted from every message, log line and String().
	AccessToken string

	// HTTPClient sends the requests. Default: a client with no global
	// timeout (each call has its own per-attempt deadline) that follows at
	// most DefaultMaxRedirects redirects and then returns the 3xx as is.
	HTTPClient *http.Client

	// UserAgent is the User-Agent header. Default: DefaultUserAgent.
	UserAgent string

	// MaxBodyBytes caps how much of a response body is read; a larger body
	// is an IncorrectResponse. Default: DefaultMaxBodyBytes (1 MiB).
	MaxBodyBytes int64

	// MaxRetryAfter is the ceiling for the delay a 429 advises; absurd
	// advice is clamped to it. Default: DefaultMaxRetryAfter (1h).
	MaxRetryAfter time.Duration

	// IdentityScheme is how identity servers are reached, "https" or
	// "http" (tests). Default: DefaultIdentityScheme.
	IdentityScheme string
}

// WithDefaults returns a copy with every zero field set to its default.
func (c ClientConfig) WithDefaults() ClientConfig {
	if c.HTTPClient == nil {
		c.HTTPClient = newDefaultHTTPClient()
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.IdentityScheme == "" {
		c.IdentityScheme = DefaultIdentityScheme
	}
	return c
}

// Validate reports the first invalid field. Zero values are valid (they mean
// the default) except for HomeserverURL and AccessToken. NewClient does not
// call it: a Client with a bad config still answers every call with an
// Outcome, as libQuotient's jobs do.
func (c ClientConfig) Validate() error {
	if _, err := parseHomeserverURL(c.HomeserverURL); err != nil {
		return err
	}
	if c.AccessToken == "" {
		return ErrMissingAccessToken
	}
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("%w: MaxBodyBytes is %d, must not be negative", ErrInvalidConfig, c.MaxBodyBytes)
	}
	if c.MaxRetryAfter < 0 {
		return fmt.Errorf("%w: MaxRetryAfter is %v, must not be negative", ErrInvalidConfig, c.MaxRetryAfter)
	}
	switch c.IdentityScheme {
	case "", "http", "https":
	default:
		return fmt.Errorf("%w: IdentityScheme is %q, must be \"https\" or \"http\"", ErrInvalidConfig, c.IdentityScheme)
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		return fmt.Errorf("%w: UserAgent contains a line break", ErrInvalidConfig)
	}
	return nil
}

// String describes the config without its access token.
func (c ClientConfig) String() string {
	return fmt.Sprintf("matrix.ClientConfig{HomeserverURL: %s, AccessToken: %s}",
		displayURL(c.HomeserverURL, c.AccessToken), tokenPresence(c.AccessToken))
}

// GoString is String, so that %#v does not print the token either.
func (c ClientConfig) GoString() string { return c.String() }

// parseHomeserverURL accepts an http(s) URL with a host and no credentials,
// query or fragment (they would be silently dropped or leaked).
func parseHomeserverURL(raw string) (*url.URL, error) {
	fail := func(problem string) error {
		return fmt.Errorf("%w: %s", ErrInvalidHomeserverURL, problem)
	}
	if raw == "" {
		return nil, fail("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Report the inner error only: url.Error quotes the whole URL, which
		// could hold a secret.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return nil, fail("unparseable: " + err.Error())
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fail(fmt.Sprintf("scheme %q, want http or https", u.Scheme))
	case u.Host == "" || u.Hostname() == "":
		return nil, fail("no host")
	case u.User != nil:
		return nil, fail("must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fail("must not contain a query or fragment")
	}
	return u, nil
}

// newDefaultHTTPClient has no Timeout because a global one would cut the
// body read of slow but healthy answers; per-attempt deadlines bound calls.
// After DefaultMaxRedirects it returns the last 3xx instead of an error, so
// the 3xx is classified like any other answer (NetworkError).
func newDefaultHTTPClient() *http.Client { return NewHTTPClient(0) }

// NewHTTPClient is the client used when ClientConfig.HTTPClient is nil,
// keeping up to idlePerHost idle connections per host (0: net/http's
// default of 2). A worker sending N invites at once to one homeserver
// passes N: with the default, all but 2 of its connections are closed after
// each request and opened again (a TCP and TLS handshake per invite).
func NewHTTPClient(idlePerHost int) *http.Client {
	var transport http.RoundTripper
	if idlePerHost > 0 {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = idlePerHost
		t.MaxIdleConns = max(t.MaxIdleConns, idlePerHost)
		transport = t
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > DefaultMaxRedirects {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// displayURL shows a homeserver URL without credentials or token.
func displayURL(raw, token string) string {
	if u, err := url.Parse(raw); err == nil {
		raw = u.Redacted()
	}
	return fmt.Sprintf("%q", newRedactor(token).String(raw))
}

// tokenPresence says whether a token is set without showing it.
func tokenPresence(token string) string {
	if token == "" {
		return "(none)"
	}
	return redactedText
}
