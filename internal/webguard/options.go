package webguard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Options configure New. Zero fields take the defaults written on them
// (WithDefaults).
type Options struct {
	// Token, when set, is required on every path but the health and open
	// ones. At least MinTokenLen characters, no spaces. Default "": no
	// token asked (keep the listener on loopback: CheckListen).
	Token string

	// PublicURL is the URL people open, e.g. https://mxinvite.example.org/
	// behind a TLS proxy: its host is served (besides loopback names and the
	// address connected to), its origin is trusted for state-changing
	// requests, and https makes session cookies Secure. Default "": none.
	PublicURL string

	// AllowedHosts are further host names served (no port), e.g. the name
	// Prometheus scrapes in a private network. Default none.
	AllowedHosts []string

	// TrustedProxies are the peers (reverse proxies) whose
	// X-Forwarded-Proto is believed: "https" from one of them makes session
	// cookies Secure. Default none.
	TrustedProxies []netip.Prefix

	// SessionTTL is how long a login lasts. Default 12 h.
	SessionTTL time.Duration

	// MaxSessions bounds the sessions kept; past it the one closest to
	// expiry ends. Default 1000.
	MaxSessions int

	// Now is the clock (for sessions). Default time.Now.
	Now func() time.Time
}

// MinTokenLen is the shortest token accepted: a guessable token on a
// network address would hand out personal data.
const MinTokenLen = 16

// WithDefaults returns a copy with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.SessionTTL == 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	switch {
	case o.Token != "" && len(o.Token) < MinTokenLen:
		return fmt.Errorf("the token must be at least %d characters", MinTokenLen)
	case strings.ContainsAny(o.Token, " \t\r\n"):
		return errors.New("the token must not contain spaces or line breaks")
	case o.SessionTTL < 0 || o.MaxSessions < 0:
		return errors.New("SessionTTL and MaxSessions must not be negative")
	}
	if o.PublicURL != "" {
		if _, err := parsePublicURL(o.PublicURL); err != nil {
			return err
		}
	}
	for _, h := range o.AllowedHosts {
		if h == "" || strings.ContainsAny(h, ":/ ") && !isIPv6(h) {
			return fmt.Errorf("allowed host %q: want a host name or IP, without scheme or port", h)
		}
	}
	return nil
}

func isIPv6(h string) bool {
	ip, err := netip.ParseAddr(strings.Trim(h, "[]"))
	return err == nil && ip.Is6()
}

// parsePublicURL reads an http(s) URL with a host.
func parsePublicURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, fmt.Errorf("public URL %q: want http(s)://host[:port][/path], e.g. https://mxinvite.example.org/", s)
	}
	return u, nil
}

// ParseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR prefixes ("127.0.0.1,10.0.0.0/8"); "" is none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitList(s) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR prefix (10.0.0.0/8)", f)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// ParseHosts reads a comma-separated list of host names; "" is none.
func ParseHosts(s string) []string { return splitList(s) }

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ErrNeedsToken is returned (wrapped) by CheckListen for a non-loopback
// address without a token.
var ErrNeedsToken = errors.New("a listener on a non-loopback address needs --dashboard-token-file")

// CheckListen refuses to serve on addr (host:port) unless addr is a
// loopback address or a token protects it. An empty host (":8080") means
// every interface, so it needs a token too.
func CheckListen(addr string, hasToken bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: want host:port, e.g. 127.0.0.1:8080", addr)
	}
	if hasToken || isLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("address %q is not loopback: %w", addr, ErrNeedsToken)
}

// isLoopbackHost reports whether host (no port) names the loopback
// interface: "localhost" or a loopback IP.
func isLoopbackHost(host string) bool {
	host = normalHost(host)
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// normalHost lower-cases a host name (no port) and drops a trailing dot
// and IPv6 brackets, so that equal names compare equal.
func normalHost(host string) string {
	return strings.Trim(strings.TrimSuffix(strings.ToLower(host), "."), "[]")
}
