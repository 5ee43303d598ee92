package config

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/mxinvite/mxinvite/worker"
)

// maxSecretBytes bounds a token or password file.
const maxSecretBytes = 64 << 10

// ReadSecretFile reads a token or password: the file must hold exactly one
// non-empty line. Errors name field and the path, never the content.
func ReadSecretFile(field, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", &FieldError{Field: field, Err: err}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretBytes+1))
	if err != nil {
		return "", &FieldError{Field: field, Err: err}
	}
	secret := strings.TrimSpace(string(b))
	switch {
	case len(b) > maxSecretBytes:
		return "", fieldErr(field, "%s: larger than %d bytes, not a token", path, maxSecretBytes)
	case secret == "":
		return "", fieldErr(field, "%s: the file is empty", path)
	case strings.ContainsAny(secret, " \t\r\n"):
		return "", fieldErr(field, "%s: the file must hold one token on one line", path)
	}
	return secret, nil
}

// Profiles reads every sender's token files and returns the worker's
// profiles, in file order. Call it on a validated configuration.
func (c Config) Profiles() ([]worker.Profile, error) {
	out := make([]worker.Profile, 0, len(c.Senders))
	for i, s := range c.Senders {
		p, err := s.Profile(fmt.Sprintf("senders[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Profile reads the sender's token files into a worker.Profile; field is the
// sender's path in the file, for errors ("senders[1]"). A token already
// given (AccessToken, IdentityServer.Token) is used without reading its file.
func (s Sender) Profile(field string) (worker.Profile, error) {
	// The worker watches AccessTokenFile for a new token (after the old
	// one was revoked or expired).
	p := worker.Profile{Name: s.Name, HomeserverURL: s.Homeserver, AccessToken: s.AccessToken,
		AccessTokenFile: s.AccessTokenFile, MaxConcurrency: s.Concurrency}
	if s.AccessToken == "" && s.AccessTokenFile != "" {
		tok, err := ReadSecretFile(field+".access_token_file", s.AccessTokenFile)
		if err != nil {
			return p, err
		}
		p.AccessToken = tok
	}
	for i, is := range s.IdentityServers {
		tok := is.Token
		if tok == "" && is.TokenFile != "" {
			var err error
			if tok, err = ReadSecretFile(fmt.Sprintf("%s.identity_servers[%d].token_file", field, i), is.TokenFile); err != nil {
				return p, err
			}
		}
		if i == 0 {
			p.IDServer, p.IDAccessToken = is.Host, tok
			continue
		}
		if tok != "" {
			if p.IDServerTokens == nil {
				p.IDServerTokens = map[string]string{}
			}
			p.IDServerTokens[is.Host] = tok
		}
	}
	return p, nil
}

// ConnURL is the URL asynq and go-redis are given: URL with Username and the
// password of PasswordFile, or a redis-sentinel:// URL for Sentinel. It holds
// the password: never print it (RedactURL).
func (r Redis) ConnURL() (string, error) {
	var password string
	if r.PasswordFile != "" {
		var err error
		if password, err = ReadSecretFile("redis.password_file", r.PasswordFile); err != nil {
			return "", err
		}
	}
	var u *url.URL
	if r.Sentinel.Master != "" {
		u = &url.URL{Scheme: "redis-sentinel", Host: strings.Join(r.Sentinel.Addrs, ","),
			RawQuery: url.Values{"master": {r.Sentinel.Master}}.Encode()}
	} else {
		var err error
		if u, err = url.Parse(r.URL); err != nil {
			return "", fieldErr("redis.url", "%v", err)
		}
	}
	switch {
	case password != "":
		u.User = url.UserPassword(r.Username, password)
	case r.Username != "":
		u.User = url.User(r.Username)
	}
	return u.String(), nil
}

// RedactURL hides a password in a URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if scheme, rest, ok := strings.Cut(raw, "://"); ok {
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				return scheme + "://(REDACTED)@" + rest[at+1:]
			}
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}
