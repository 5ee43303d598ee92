package dashboard

import (
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

// Options configure the dashboard. Zero fields take the defaults written on
// them (WithDefaults).
type Options struct {
	// Source is what the pages read and act on. Required.
	Source Source

	// Guard protects every page: Host, origin and token checks, sessions.
	// Give the listener's own when the dashboard shares it (`worker --http
	// --dashboard`), so that one login opens every page of it. Default: a
	// Guard of Token, SessionTTL and Now.
	Guard *webguard.Guard

	// Token, for the default Guard, is required on every request: as
	// "Authorization: Bearer <token>" or through the login form's session.
	// At least webguard.MinTokenLen characters. Default "": no login, and
	// only loopback Host headers are served. Not with Guard.
	Token string

	// SessionTTL, for the default Guard, is how long a login lasts.
	// Default 12 h.
	SessionTTL time.Duration

	// Now, for the default Guard, is the clock of sessions. Default time.Now.
	Now func() time.Time

	// Refresh is how often a page polls for fresh numbers while a campaign
	// has pending invites (four times slower when none has). Default 2 s.
	Refresh time.Duration

	// PageSize is the number of failures per page. Default 50.
	PageSize int

	// Logger receives errors of page rendering. Default: a disabled logger.
	Logger *zerolog.Logger
}

// WithDefaults returns a copy with zero fields set to their defaults (the
// default Guard is made by New).
func (o Options) WithDefaults() Options {
	if o.Refresh == 0 {
		o.Refresh = 2 * time.Second
	}
	if o.PageSize == 0 {
		o.PageSize = 50
	}
	if o.Logger == nil {
		l := zerolog.Nop()
		o.Logger = &l
	}
	return o
}

// Validate reports the first invalid field.
func (o Options) Validate() error {
	switch {
	case o.Source == nil:
		return errors.New("dashboard: Options.Source is required")
	case o.Guard != nil && (o.Token != "" || o.SessionTTL != 0 || o.Now != nil):
		return errors.New("dashboard: Token, SessionTTL and Now configure the default Guard: not with Options.Guard")
	case o.Refresh < 0 || o.PageSize < 0:
		return errors.New("dashboard: Refresh and PageSize must not be negative")
	}
	return nil
}

// OpenPaths are the dashboard's paths that need no token: the login page
// and the stylesheet and script it loads (the same in every copy of
// mxinvite; no data). A listener that serves the dashboard with a Guard of
// its own lists them in its webguard.Routes.
func OpenPaths() []string { return []string{webguard.LoginPath, "/static/"} }
