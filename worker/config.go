package worker

import (
	"errors"
	"fmt"
	"github.com/mxinvite/mxinvite/internal/observe"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
)

// The defaults of Config, each named once: the command line, the config
// file (internal/config) and the docs refer to these.
const (
	DefaultConcurrency        = 10
	DefaultMaxRateLimitWait   = 24 * time.Hour
	DefaultMaxRetryAfter      = time.Hour
	DefaultInProcessWait      = 30 * time.Second
	DefaultShutdownTimeout    = 30 * time.Second
	DefaultBackoffThreshold   = 3
	DefaultBackoffMax         = 10 * time.Minute
	DefaultBreaker            = 5
	DefaultTokenCheckInterval = 2 * time.Second
	// DefaultStreamMaxLen keeps about 30 MB of results stream (~300 B an entry).
	DefaultStreamMaxLen = 100_000
	// DefaultPollInterval: asynq's own defaults are 1 s and 5 s; 200 ms for
	// both makes scheduled retries run within a second of their time.
	DefaultPollInterval = 200 * time.Millisecond
	// DefaultLookupCacheTTL: how long a v2 lookup's answer is reused
	// (resolve.go): long enough for a batch of a campaign, short enough
	// that a bind made meanwhile is seen soon.
	DefaultLookupCacheTTL = time.Minute
	// DefaultTrackEvery: how often the worker looks again at who joined
	// while a campaign has invitees who have not (track.go).
	DefaultTrackEvery = time.Hour
)

// Off turns off a limit that is on by default (Breaker, StreamMaxLen). In
// Config, zero always means the default; on the command line and in the
// config file, 0 turns these limits off (internal/config translates).
const Off = -1

// Config configures a worker. A zero field means its default, always
// (WithDefaults fills them in); a limit on by default is turned off with Off.
type Config struct {
	// Redis is where tasks, results and the rate-limit gate live. Required.
	Redis asynq.RedisConnOpt

	// Profiles are the senders this worker can invite as, by name. Required:
	// at least one. A task naming a profile this worker does not serve waits
	// for a worker that serves it.
	Profiles []Profile

	// Policy is the retry schedule. Default matrix.DefaultRetryPolicy():
	// timeouts 30/60/150 s, waits 2/5/30 s, 3 retries.
	Policy matrix.RetryPolicy

	// Concurrency is each sender's invites in flight in this process
	// (Profile.MaxConcurrency overrides it). Default DefaultConcurrency.
	Concurrency int

	// Queue is the base of the queues served: the senders' lanes under it
	// (tasks.SenderQueues) and itself. Default tasks.DefaultQueue.
	Queue string

	// KeyPrefix prefixes every key mxinvite writes (results, counters,
	// stream, gate). Default rdb.DefaultPrefix.
	KeyPrefix string

	// MaxRateLimitWait bounds how long one invite may keep being rate limited
	// (from its first 429) before it ends TooManyRequests. Default
	// DefaultMaxRateLimitWait.
	MaxRateLimitWait time.Duration

	// MaxRetryAfter clamps a server's advised delay. Default DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration

	// InProcessWait is the longest wait done in-process, holding the task,
	// for precision; longer waits go back to asynq as a scheduled retry.
	// Default DefaultInProcessWait.
	InProcessWait time.Duration

	// FinalOn5xx makes an ambiguous answer (5xx, or a timeout after the
	// request was sent) final instead of retried, for operators who prefer a
	// missed invite to a second email. Default false: re-check, then retry.
	FinalOn5xx bool

	// NoTxnID sends plain POST invites instead of the idempotent
	// PUT /invite/{txnId} form. Default false (PUT where the server has it).
	NoTxnID bool

	// BackoffThreshold is how many different invites of one sender must
	// get ambiguous answers (5xx, timeouts after sending) with no success
	// between them before the sender backs off (backoff.go). Default
	// DefaultBackoffThreshold.
	BackoffThreshold int

	// BackoffMax is the longest wait of a sender back-off, whose waits are
	// the policy's, then doubling. Default DefaultBackoffMax.
	BackoffMax time.Duration

	// Breaker pauses a campaign when its first Breaker finished invites all
	// ended with the same failure status (a server without 3PID invites, a
	// room the sender cannot invite to). Default DefaultBreaker; Off (any
	// negative value) turns it off.
	Breaker int

	// NoLookup turns resolve-first off: every address is invited by 3PID,
	// none is looked up first (resolve.go). Default false: addresses are
	// looked up on the identity server (v2 hashed lookup) and a bound one
	// is invited by its Matrix ID.
	NoLookup bool

	// LookupCacheTTL is how long a lookup's answer is reused. Default
	// DefaultLookupCacheTTL.
	LookupCacheTTL time.Duration

	// TrackEvery is how often the worker refreshes who joined, for every
	// campaign with invitees not joined yet (track.go). Default
	// DefaultTrackEvery; Off (any negative value) never.
	TrackEvery time.Duration

	// AcceptIdentityTerms accepts an identity server's terms of service on
	// the sender's behalf when the worker obtains an identity token from
	// the account. Default false: the sender pauses until they are accepted.
	AcceptIdentityTerms bool

	// TokenCheckInterval is how often token files are looked at for a new
	// token (and at least every 10 s re-read while the sender is paused).
	// Default DefaultTokenCheckInterval.
	TokenCheckInterval time.Duration

	// StreamMaxLen caps the results stream, approximately (XADD MAXLEN ~:
	// Redis trims whole nodes, so a few hundred more may stay). Default
	// DefaultStreamMaxLen; Off (any negative value): never trimmed.
	StreamMaxLen int64

	// FinishedTTL, when positive, makes a finished invite's record expire
	// this long after its final result. Once it has expired, enqueueing the
	// same address again invites it again, and the campaign counters still
	// count it (purge drops its index entry). Default 0: no expiry, records
	// are kept until purged.
	FinishedTTL time.Duration

	// ShutdownTimeout is how long in-flight invites may finish on shutdown
	// before they are handed back to the queue. Default DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// PollInterval is how often asynq looks for due and delayed tasks.
	// Default DefaultPollInterval.
	PollInterval time.Duration

	// HTTPClient is used for every Matrix call. Default:
	// matrix.NewHTTPClient(Concurrency), which keeps a connection per
	// invite in flight open between requests.
	HTTPClient *http.Client

	// IdentityScheme is how identity servers are reached for checks.
	// Default "https"; tests use "http".
	IdentityScheme string

	// Logger receives the worker's logs. Default: a disabled logger.
	Logger *zerolog.Logger

	// Observer is told of attempts, gate waits, finished invites and sender
	// state, for metrics and health. Default observe.Nop (nothing).
	Observer observe.Observer
}

// WithDefaults returns a copy with every zero field set to its default.
func (c Config) WithDefaults() Config {
	c.Policy = c.Policy.WithDefaults()
	setDefault(&c.Concurrency, DefaultConcurrency)
	setDefault(&c.Queue, tasks.DefaultQueue)
	setDefault(&c.KeyPrefix, rdb.DefaultPrefix)
	setDefault(&c.MaxRateLimitWait, DefaultMaxRateLimitWait)
	setDefault(&c.MaxRetryAfter, DefaultMaxRetryAfter)
	setDefault(&c.InProcessWait, DefaultInProcessWait)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.BackoffThreshold, DefaultBackoffThreshold)
	setDefault(&c.BackoffMax, DefaultBackoffMax)
	setDefault(&c.Breaker, DefaultBreaker)
	setDefault(&c.TokenCheckInterval, DefaultTokenCheckInterval)
	setDefault(&c.StreamMaxLen, DefaultStreamMaxLen)
	setDefault(&c.PollInterval, DefaultPollInterval)
	setDefault(&c.LookupCacheTTL, DefaultLookupCacheTTL)
	setDefault(&c.TrackEvery, DefaultTrackEvery)
	if c.Logger == nil {
		l := zerolog.Nop()
		c.Logger = &l
	}
	if c.Observer == nil {
		c.Observer = observe.Nop{}
	}
	return c
}

// setDefault sets *v to def when it is zero.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Redis == nil {
		return errors.New("worker config: Redis is required")
	}
	if len(c.Profiles) == 0 {
		return errors.New("worker config: at least one sender profile is required")
	}
	seen := map[string]bool{}
	for _, p := range c.Profiles {
		if err := p.validate(); err != nil {
			return fmt.Errorf("worker config: %w", err)
		}
		if seen[p.Name] {
			return fmt.Errorf("worker config: profile %q defined twice", p.Name)
		}
		seen[p.Name] = true
	}
	if err := c.Policy.Validate(); err != nil {
		return fmt.Errorf("worker config: %w", err)
	}
	if c.BackoffThreshold < 1 {
		return fmt.Errorf("worker config: BackoffThreshold %d must be at least 1", c.BackoffThreshold)
	}
	if c.Concurrency < 1 {
		return fmt.Errorf("worker config: Concurrency %d must be at least 1", c.Concurrency)
	}
	for name, d := range map[string]time.Duration{
		"MaxRateLimitWait": c.MaxRateLimitWait, "MaxRetryAfter": c.MaxRetryAfter,
		"InProcessWait": c.InProcessWait, "ShutdownTimeout": c.ShutdownTimeout,
		"PollInterval": c.PollInterval, "FinishedTTL": c.FinishedTTL, "BackoffMax": c.BackoffMax,
		"TokenCheckInterval": c.TokenCheckInterval, "LookupCacheTTL": c.LookupCacheTTL,
	} {
		if d < 0 {
			return fmt.Errorf("worker config: %s %v must not be negative", name, d)
		}
	}
	return nil
}
