package dashboard

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Options configure the dashboard. Zero fields take the defaults written on
// them (WithDefaults).
type Options struct {
	// Source is what the pages read and act on. Required.
	Source Source

	// Token, when set, is required on every request: as
	// "Authorization: Bearer <token>" or through the login form's cookie.
	// At least MinTokenLen characters. Default "": no login, and only
	// loopback Host headers are served.
	Token string

	// Refresh is how often a page polls for fresh numbers while a campaign
	// has pending invites (four times slower when none has). Default 2 s.
	Refresh time.Duration

	// SessionTTL is how long a login lasts. Default 12 h.
	SessionTTL time.Duration

	// PageSize is the number of failures per page. Default 50.
	PageSize int

	// Logger receives errors of page rendering. Default: a disabled logger.
	Logger *zerolog.Logger

	// Now is the clock (for sessions). Default time.Now.
	Now func() time.Time
}

// MinTokenLen is the shortest token accepted: a guessable token on a
// network address would hand out personal data.
const MinTokenLen = 16

// WithDefaults returns a copy with zero fields set to their defaults.
func (o Options) WithDefaults() Options {
	if o.Refresh == 0 {
		o.Refresh = 2 * time.Second
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.PageSize == 0 {
		o.PageSize = 50
	}
	if o.Logger == nil {
		l := zerolog.Nop()
		o.Logger = &l
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	switch {
	case o.Source == nil:
		return errors.New("dashboard: Options.Source is required")
	case o.Token != "" && len(o.Token) < MinTokenLen:
		return fmt.Errorf("dashboard: the token must be at least %d characters", MinTokenLen)
	case strings.ContainsAny(o.Token, " \t\r\n"):
		return errors.New("dashboard: the token must not contain spaces or line breaks")
	case o.Refresh < 0 || o.SessionTTL < 0 || o.PageSize < 0:
		return errors.New("dashboard: Refresh, SessionTTL and PageSize must not be negative")
	}
	return nil
}

// ErrNeedsToken is returned (wrapped) by CheckListen for a non-loopback
// address without a token.
var ErrNeedsToken = errors.New("a dashboard on a non-loopback address needs --dashboard-token-file")

// CheckListen refuses to serve the dashboard on addr (host:port) unless addr
// is a loopback address or a token protects it. An empty host (":8080")
// means every interface, so it needs a token too.
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
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.Unmap().IsLoopback()
}
