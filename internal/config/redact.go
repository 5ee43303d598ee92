package config

import (
	"bytes"

	"go.yaml.in/yaml/v3"
)

// InlineSecret stands, in a printed configuration, for a token that came
// from the environment rather than from a file.
const InlineSecret = "(from the environment, REDACTED)"

// Redacted returns a copy fit for printing (defaults not applied): the Redis URL's password hidden,
// tokens given inline (from the environment) shown as InlineSecret in place
// of a file. Paths are not secrets; the files' contents are never read here.
func (c Config) Redacted() Config {
	c = c.clone()
	c.Redis.URL = RedactURL(c.Redis.URL)
	for i := range c.Senders {
		s := &c.Senders[i]
		if s.AccessToken != "" && s.AccessTokenFile == "" {
			s.AccessTokenFile = InlineSecret
		}
		s.AccessToken = ""
		for j := range s.IdentityServers {
			is := &s.IdentityServers[j]
			if is.Token != "" && is.TokenFile == "" {
				is.TokenFile = InlineSecret
			}
			is.Token = ""
		}
	}
	return c
}

// YAML renders c (call Redacted first) as the file would say it, two-space
// indented; reading it back with Parse gives the same configuration.
func (c Config) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
