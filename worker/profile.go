package worker

import (
	"fmt"
	"net/url"

	"github.com/mxinvite/mxinvite/matrix"
)

// Profile is a sender: the account invites are sent from and the identity
// server they name. Tasks carry only the profile's name, so tokens stay in the
// worker's configuration and never reach Redis.
type Profile struct {
	// Name is what tasks put in their "sender" field. Default "default".
	Name string
	// HomeserverURL is the client-server API base URL, e.g. https://matrix.example.org.
	HomeserverURL string
	// AccessToken authenticates the sender at the homeserver. Never logged.
	// Read from AccessTokenFile when empty.
	AccessToken string
	// AccessTokenFile, when set, holds the access token on one line. The
	// worker watches it: a new token written there (after the old one was
	// revoked or expired) is checked with whoami and used at once, and a
	// sender paused for a dead token resumes by itself.
	AccessTokenFile string
	// IDServer is the identity server (hostname[:port]) used when a task
	// names none.
	IDServer string
	// IDAccessToken is the token registered with IDServer. Never logged.
	IDAccessToken string
	// IDServerTokens are the tokens of further identity servers a task may
	// name (hostname[:port] → token). Default none. Never logged.
	IDServerTokens map[string]string
	// MaxConcurrency caps this sender's invites in flight in this process;
	// more wait for a slot, by priority (internal/turns). Default 0:
	// Config.Concurrency. Each sender has its own slots: another sender's
	// backlog or pace never takes them.
	MaxConcurrency int
}

// concurrency is the sender's invites in flight in this process.
func (p Profile) concurrency(cfg Config) int {
	if p.MaxConcurrency > 0 {
		return p.MaxConcurrency
	}
	return cfg.Concurrency
}

// String shows the profile without its tokens.
func (p Profile) String() string {
	return fmt.Sprintf("Profile{Name:%q HomeserverURL:%q AccessToken:%s AccessTokenFile:%q IDServer:%q IDAccessToken:%s IDServerTokens:%d MaxConcurrency:%d}",
		p.Name, p.HomeserverURL, redacted(p.AccessToken), p.AccessTokenFile, p.IDServer, redacted(p.IDAccessToken), len(p.IDServerTokens), p.MaxConcurrency)
}

// GoString keeps %#v from printing tokens.
func (p Profile) GoString() string { return p.String() }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "(REDACTED)"
}

// secrets lists the profile's tokens, for scrubbing text before it is stored.
func (p Profile) secrets() []string {
	var out []string
	for _, s := range []string{p.AccessToken, p.IDAccessToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, s := range p.IDServerTokens {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p Profile) validate() error {
	if p.Name == "" {
		return fmt.Errorf("profile: name is empty")
	}
	if p.HomeserverURL == "" {
		return fmt.Errorf("profile %q: homeserver URL is empty", p.Name)
	}
	u, err := url.Parse(p.HomeserverURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("profile %q: homeserver URL %q: want https://host[:port] (with its scheme)", p.Name, p.HomeserverURL)
	}
	if p.AccessToken == "" && p.AccessTokenFile == "" {
		return fmt.Errorf("profile %q: no access token (give a token or a token file)", p.Name)
	}
	if p.MaxConcurrency < 0 {
		return fmt.Errorf("profile %q: MaxConcurrency %d must not be negative", p.Name, p.MaxConcurrency)
	}
	return nil
}

func (p Profile) client(cfg Config) *matrix.Client {
	return matrix.NewClient(matrix.ClientConfig{
		HomeserverURL:  p.HomeserverURL,
		AccessToken:    p.AccessToken,
		HTTPClient:     cfg.HTTPClient,
		MaxRetryAfter:  cfg.MaxRetryAfter,
		IdentityScheme: cfg.IdentityScheme,
	})
}
