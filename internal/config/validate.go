package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/tasks"
)

// ErrInvalid is what every FieldError Is, for callers that only need to
// know the configuration was refused.
var ErrInvalid = errors.New("invalid configuration")

// FieldError names the offending field by its path in the file, e.g.
// "senders[1].homeserver".
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string        { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error        { return e.Err }
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Validate reports the first invalid field, without touching the network or
// the files the configuration names (see Profiles and the checks of
// `mxinvite config check` for those). Call it on c.WithDefaults().
func (c Config) Validate() error {
	if err := c.Redis.validate(); err != nil {
		return err
	}
	if c.Prefix == "" || strings.ContainsAny(c.Prefix, " \t\r\n") {
		return fieldErr("prefix", "%q must be non-empty, without spaces", c.Prefix)
	}
	if c.Queue == "" || strings.ContainsAny(c.Queue, " \t\r\n") {
		return fieldErr("queue", "%q must be non-empty, without spaces", c.Queue)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fieldErr("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "console", "auto":
	default:
		return fieldErr("log.format", "%q: want json, console or auto", c.Log.Format)
	}
	if err := c.Worker.validate(); err != nil {
		return err
	}
	if _, err := tasks.ParsePriority(c.Campaigns.Priority); err != nil {
		return fieldErr("campaigns.priority", "%q: want high, normal or low", c.Campaigns.Priority)
	}
	if c.Lists.Region != "" && addrlist.CheckRegion(c.Lists.Region) != nil {
		return fieldErr("lists.region", "%q: want an ISO 3166 country code with a phone numbering plan, such as GB, US or DE", c.Lists.Region)
	}
	seen := map[string]int{}
	for i, s := range c.Senders {
		if err := s.Validate(fmt.Sprintf("senders[%d]", i)); err != nil {
			return err
		}
		if j, dup := seen[s.Name]; dup {
			return fieldErr(fmt.Sprintf("senders[%d].name", i), "%q is already the name of senders[%d]", s.Name, j)
		}
		seen[s.Name] = i
	}
	return nil
}

func (r Redis) validate() error {
	if r.Sentinel.Master != "" || len(r.Sentinel.Addrs) > 0 {
		if r.Sentinel.Master == "" {
			return fieldErr("redis.sentinel.master", "is required with redis.sentinel.addrs")
		}
		if len(r.Sentinel.Addrs) == 0 {
			return fieldErr("redis.sentinel.addrs", "give at least one sentinel host:port")
		}
		for i, a := range r.Sentinel.Addrs {
			if err := hostPort(a, true); err != nil {
				return fieldErr(fmt.Sprintf("redis.sentinel.addrs[%d]", i), "%q: %v", a, err)
			}
		}
		if r.URL != "" {
			return fieldErr("redis.url", "give redis.url or redis.sentinel, not both")
		}
		return nil
	}
	u, err := url.Parse(r.URL)
	switch {
	case err != nil:
		return fieldErr("redis.url", "%q: %v", RedactURL(r.URL), err)
	case u.Scheme != "redis" && u.Scheme != "rediss":
		return fieldErr("redis.url", "%q: want redis://host:port or rediss://host:port", RedactURL(r.URL))
	case u.Host == "":
		return fieldErr("redis.url", "%q: no host", RedactURL(r.URL))
	case u.User != nil && r.PasswordFile != "":
		return fieldErr("redis.url", "has a user or password and redis.password_file is set: give one")
	case r.TLSCAFile != "" && u.Scheme != "rediss":
		return fieldErr("redis.tls_ca_file", "is set but redis.url is not rediss://")
	}
	return nil
}

func (w Worker) validate() error {
	switch {
	case w.Concurrency < 1:
		return fieldErr("worker.concurrency", "%d: must be at least 1", w.Concurrency)
	case w.MaxRetries != nil && *w.MaxRetries < 0:
		return fieldErr("worker.max_retries", "%d: must not be negative", *w.MaxRetries)
	case w.MaxRateLimitWait < 0:
		return fieldErr("worker.max_rate_limit_wait", "%v: must not be negative", w.MaxRateLimitWait)
	case w.ShutdownTimeout < 0:
		return fieldErr("worker.shutdown_timeout", "%v: must not be negative", w.ShutdownTimeout)
	case w.Breaker != nil && *w.Breaker < 0:
		return fieldErr("worker.breaker", "%d: must not be negative (0 turns it off)", *w.Breaker)
	case w.Lookup != "" && w.Lookup != "on" && w.Lookup != "off":
		return fieldErr("worker.lookup", "%q: must be on or off", w.Lookup)
	case w.TrackEvery != nil && *w.TrackEvery < 0:
		return fieldErr("worker.track_every", "%v: must not be negative (0 turns it off)", *w.TrackEvery)
	}
	if i, ok := durationsOK(w.RetryWaits, true); !ok {
		return fieldErr(fmt.Sprintf("worker.retry_waits[%d]", i), "%v: must not be negative", w.RetryWaits[i])
	}
	if i, ok := durationsOK(w.Timeouts, false); !ok {
		return fieldErr(fmt.Sprintf("worker.timeouts[%d]", i), "%v: must be positive", w.Timeouts[i])
	}
	return nil
}

// Validate checks one sender; field is its path ("senders[1]"), the prefix
// of every error's Field.
func (s Sender) Validate(field string) error {
	if s.Name == "" || strings.ContainsAny(s.Name, " \t\r\n") {
		return fieldErr(field+".name", "%q must be non-empty, without spaces", s.Name)
	}
	u, err := url.Parse(s.Homeserver)
	switch {
	case s.Homeserver == "":
		return fieldErr(field+".homeserver", "is required, e.g. https://matrix.example.org")
	case err != nil:
		return fieldErr(field+".homeserver", "%q: %v", s.Homeserver, err)
	case u.Scheme != "https" && u.Scheme != "http":
		return fieldErr(field+".homeserver", "%q: want an http:// or https:// URL, e.g. https://matrix.example.org", s.Homeserver)
	case u.Host == "":
		return fieldErr(field+".homeserver", "%q: no host", s.Homeserver)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fieldErr(field+".homeserver", "%q: want a base URL without user, query or fragment", s.Homeserver)
	}
	if s.AccessTokenFile == "" && s.AccessToken == "" {
		return fieldErr(field+".access_token_file", "is required: a file holding the sender's access token")
	}
	if s.Concurrency < 0 {
		return fieldErr(field+".concurrency", "%d: must not be negative (0: no cap of its own)", s.Concurrency)
	}
	seen := map[string]bool{}
	for i, is := range s.IdentityServers {
		f := fmt.Sprintf("%s.identity_servers[%d].host", field, i)
		if err := hostPort(is.Host, false); err != nil {
			return fieldErr(f, "%q: %v", is.Host, err)
		}
		if seen[is.Host] {
			return fieldErr(f, "%q is listed twice", is.Host)
		}
		seen[is.Host] = true
	}
	return nil
}

// hostPort checks hostname[:port] (the port required when needPort).
func hostPort(s string, needPort bool) error {
	if s == "" {
		return errors.New("is empty")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/ ") {
		return errors.New("want hostname[:port], without scheme or path")
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if needPort {
			return errors.New("want host:port")
		}
		host, port = s, ""
	}
	if host == "" {
		return errors.New("no host")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q: want 1-65535", port)
		}
	}
	return nil
}
