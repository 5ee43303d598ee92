package config

import (
	"slices"
	"time"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redisconn"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// The file's defaults are those of the command-line flags; each is
// declared once, where it belongs, and named here for the file's readers
// (a test in cmd/mxinvite keeps the flags' defaults equal to them).
const (
	DefaultRedisURL = redisconn.DefaultURL
	DefaultPrefix   = rdb.DefaultPrefix
	DefaultBreaker  = worker.DefaultBreaker
	// The logs of long-running commands: level and format.
	DefaultLogLevel  = "info"
	DefaultLogFormat = "auto"
)

// WithDefaults returns a copy with every zero field set to its default.
// Slices are copied, so the result shares nothing with c.
func (c Config) WithDefaults() Config {
	if c.Redis.URL == "" && c.Redis.Sentinel.Master == "" {
		c.Redis.URL = DefaultRedisURL
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Queue == "" {
		c.Queue = tasks.DefaultQueue
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	c.Worker = c.Worker.WithDefaults()
	return c.clone()
}

// clone copies c deeply: the copy shares no slice or pointer with c.
func (c Config) clone() Config {
	c.Redis.Sentinel.Addrs = slices.Clone(c.Redis.Sentinel.Addrs)
	c.Worker.RetryWaits = slices.Clone(c.Worker.RetryWaits)
	c.Worker.Timeouts = slices.Clone(c.Worker.Timeouts)
	if c.Worker.MaxRetries != nil {
		c.Worker.MaxRetries = ptr(*c.Worker.MaxRetries)
	}
	if c.Worker.Breaker != nil {
		c.Worker.Breaker = ptr(*c.Worker.Breaker)
	}
	if c.Worker.TrackEvery != nil {
		c.Worker.TrackEvery = ptr(*c.Worker.TrackEvery)
	}
	c.Senders = slices.Clone(c.Senders)
	for i := range c.Senders {
		c.Senders[i].IdentityServers = slices.Clone(c.Senders[i].IdentityServers)
	}
	return c
}

// WithDefaults returns a copy with every unset field set to its default
// (worker.Config's and matrix.DefaultRetryPolicy's).
func (w Worker) WithDefaults() Worker {
	wd := worker.Config{}.WithDefaults()
	policy := matrix.DefaultRetryPolicy()
	if w.Concurrency == 0 {
		w.Concurrency = wd.Concurrency
	}
	w.RetryWaits = slices.Clone(w.RetryWaits)
	if len(w.RetryWaits) == 0 {
		w.RetryWaits = policy.Waits
	}
	w.Timeouts = slices.Clone(w.Timeouts)
	if len(w.Timeouts) == 0 {
		w.Timeouts = policy.Timeouts
	}
	if w.MaxRetries == nil {
		w.MaxRetries = ptr(policy.MaxRetries)
	} else {
		w.MaxRetries = ptr(*w.MaxRetries)
	}
	if w.MaxRateLimitWait == 0 {
		w.MaxRateLimitWait = wd.MaxRateLimitWait
	}
	if w.ShutdownTimeout == 0 {
		w.ShutdownTimeout = wd.ShutdownTimeout
	}
	if w.Breaker == nil {
		w.Breaker = ptr(DefaultBreaker)
	} else {
		w.Breaker = ptr(*w.Breaker)
	}
	return w
}

// Policy is the retry policy the worker settings describe (call it on a
// validated Worker).
func (w Worker) Policy() matrix.RetryPolicy {
	w = w.WithDefaults()
	return matrix.RetryPolicy{Waits: w.RetryWaits, Timeouts: w.Timeouts, MaxRetries: *w.MaxRetries}
}

// Sender returns the sender named name, if the file has one.
func (c Config) Sender(name string) (Sender, bool) {
	for _, s := range c.Senders {
		if s.Name == name {
			return s, true
		}
	}
	return Sender{}, false
}

// SenderNames lists the senders' names in file order.
func (c Config) SenderNames() []string {
	names := make([]string, len(c.Senders))
	for i, s := range c.Senders {
		names[i] = s.Name
	}
	return names
}

func ptr[T any](v T) *T { return &v }

// durationsOK reports whether every duration is positive (timeouts) or
// non-negative (waits).
func durationsOK(ds []time.Duration, zeroOK bool) (int, bool) {
	for i, d := range ds {
		if d < 0 || (d == 0 && !zeroOK) {
			return i, false
		}
	}
	return 0, true
}

// OffIfZero translates a limit the command line or the file turns off
// with 0 (--breaker, --results-stream-max, worker.breaker) to worker.Config,
// where zero means the default and worker.Off turns the limit off.
func OffIfZero(n int) int {
	if n == 0 {
		return worker.Off
	}
	return n
}
