package matrix

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestClientConfigWithDefaults(t *testing.T) {
	cfg := ClientConfig{}.WithDefaults()
	if cfg.HTTPClient == nil || cfg.HTTPClient.Timeout != 0 || cfg.HTTPClient.CheckRedirect == nil {
		t.Errorf("HTTPClient = %+v, want no global timeout and a redirect limit", cfg.HTTPClient)
	}
	if cfg.UserAgent != "mxinvite/"+Version || cfg.MaxBodyBytes != 1<<20 || cfg.MaxRetryAfter != time.Hour || cfg.IdentityScheme != "https" {
		t.Errorf("defaults = %+v", cfg)
	}
	kept := ClientConfig{UserAgent: "x", MaxBodyBytes: 5, MaxRetryAfter: time.Minute, IdentityScheme: "http"}.WithDefaults()
	if kept.UserAgent != "x" || kept.MaxBodyBytes != 5 || kept.MaxRetryAfter != time.Minute || kept.IdentityScheme != "http" {
		t.Errorf("WithDefaults overwrote set fields: %+v", kept)
	}
}

func TestClientConfigValidate(t *testing.T) {
	valid := ClientConfig{HomeserverURL: "https://matrix.example.org", AccessToken: testToken}
	if err := valid.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if err := valid.WithDefaults().Validate(); err != nil {
		t.Errorf("valid config with defaults: %v", err)
	}
	tests := []struct {
		modify func(*ClientConfig)
		is     error
		names  string
	}{
		{func(c *ClientConfig) { c.HomeserverURL = "" }, ErrInvalidHomeserverURL, "empty"},
		{func(c *ClientConfig) { c.HomeserverURL = "matrix.example.org" }, ErrInvalidHomeserverURL, "scheme"},
		{func(c *ClientConfig) { c.HomeserverURL = "https://" }, ErrInvalidHomeserverURL, "no host"},
		{func(c *ClientConfig) { c.HomeserverURL = "https://ex ample.org/" + testToken }, ErrInvalidHomeserverURL, "unparseable"},
		{func(c *ClientConfig) { c.AccessToken = "" }, ErrMissingAccessToken, "token"},
		{func(c *ClientConfig) { c.MaxBodyBytes = -1 }, ErrInvalidConfig, "MaxBodyBytes"},
		{func(c *ClientConfig) { c.MaxRetryAfter = -time.Second }, ErrInvalidConfig, "MaxRetryAfter"},
		{func(c *ClientConfig) { c.IdentityScheme = "ftp" }, ErrInvalidConfig, "IdentityScheme"},
		{func(c *ClientConfig) { c.UserAgent = "a\r\nX-Evil: 1" }, ErrInvalidConfig, "UserAgent"},
	}
	for _, tt := range tests {
		cfg := valid
		tt.modify(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, tt.is) || !strings.Contains(err.Error(), tt.names) {
			t.Errorf("Validate() = %v, want %v naming %q", err, tt.is, tt.names)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("Validate() leaks the token: %v", err)
		}
	}
}

func TestNewClientToleratesNegativeLimits(t *testing.T) {
	c := NewClient(ClientConfig{HomeserverURL: "https://x.example", AccessToken: "t", MaxBodyBytes: -5, MaxRetryAfter: -time.Second})
	if c.cfg.MaxBodyBytes != DefaultMaxBodyBytes || c.cfg.MaxRetryAfter != DefaultMaxRetryAfter {
		t.Errorf("cfg = %+v", c.cfg)
	}
}
