// Package config reads mxinvite's configuration file: Redis, key prefix,
// queue, worker settings and any number of sender profiles.
//
// The file is YAML, decoded strictly: an unknown or repeated key is an error
// naming its line, so a typo cannot leave a setting silently at its default.
// It never holds a secret itself, only the paths of files that do (tokens,
// the Redis password), so it can be shown, diffed and committed.
//
// Every zero field means "the default written on it"; [Config.WithDefaults]
// fills them in and [Config.Validate] names the first offending field by its
// path in the file, e.g. "senders[1].homeserver: ...".
package config

import "time"

// Config is the whole file.
type Config struct {
	// Redis is where tasks, records, results and the rate-limit gate live.
	Redis Redis `yaml:"redis,omitempty"`

	// Prefix prefixes every key mxinvite writes. Default DefaultPrefix.
	Prefix string `yaml:"prefix,omitempty"`

	// Queue is the asynq queue of invite tasks. Default tasks.DefaultQueue.
	Queue string `yaml:"queue,omitempty"`

	// Log configures the logs of long-running commands (worker, scheduler).
	Log Log `yaml:"log,omitempty"`

	// Worker holds the settings of `mxinvite worker`.
	Worker Worker `yaml:"worker,omitempty"`

	// Lists holds how address lists are read (enqueue, schedule add,
	// preflight).
	Lists Lists `yaml:"lists,omitempty"`

	// Campaigns holds what campaigns enqueued with this file are given
	// (enqueue, invite, schedule add).
	Campaigns Campaigns `yaml:"campaigns,omitempty"`

	// Senders are the accounts invites are sent from. A worker serves every
	// one of them; a task names one by Name. Default none: the command-line
	// flags then describe the one sender, named "default".
	Senders []Sender `yaml:"senders,omitempty"`
}

// Redis says how to reach Redis. Extend it rather than adding top-level keys.
type Redis struct {
	// URL is redis://host:port[/db], or rediss:// for TLS. Default
	// DefaultRedisURL. Put no password in it: use PasswordFile.
	URL string `yaml:"url,omitempty"`

	// Username is the ACL user (Redis 6+). Default none: the default user.
	Username string `yaml:"username,omitempty"`

	// PasswordFile holds the password (requirepass, or the ACL user's) on
	// one line. Default none: no AUTH.
	PasswordFile string `yaml:"password_file,omitempty"`

	// TLSCAFile is a PEM bundle of the CAs trusted for rediss://. Default
	// none: the system's roots.
	TLSCAFile string `yaml:"tls_ca_file,omitempty"`

	// Sentinel, when Master is set, finds the primary through Redis
	// Sentinel instead of URL's host. Default off.
	Sentinel Sentinel `yaml:"sentinel,omitempty"`
}

// Sentinel names a Sentinel-managed primary.
type Sentinel struct {
	// Master is the primary's name in the sentinels' configuration.
	Master string `yaml:"master,omitempty"`
	// Addrs are the sentinels, host:port each. Required with Master.
	Addrs []string `yaml:"addrs,omitempty,flow"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error. Default "info".
	Level string `yaml:"level,omitempty"`
	// Format is json, console, or auto (console on a terminal). Default "auto".
	Format string `yaml:"format,omitempty"`
}

// Lists holds what the list-reading commands take as flags of the same names.
type Lists struct {
	// Region is the ISO 3166 country (GB, US, …) of phone numbers written
	// in national form (--region). Default none: they are rejected.
	Region string `yaml:"region,omitempty"`
}

// Campaigns holds the defaults of the campaigns enqueued with the file.
type Campaigns struct {
	// Priority is their claim on their sender's turns: high, normal or
	// low (--priority). Default none: a campaign keeps its own, normal
	// for a new one.
	Priority string `yaml:"priority,omitempty"`
}

// Worker holds what `mxinvite worker` takes as flags of the same names.
// Pointers distinguish "not in the file" from a meaningful zero.
type Worker struct {
	// Concurrency is the number of invites of each sender in flight in one
	// worker process (a sender's own concurrency overrides it). Default 10.
	Concurrency int `yaml:"concurrency,omitempty"`

	// RetryWaits are the waits before retries 1, 2, 3…; the last repeats.
	// Default 2s, 5s, 30s (libQuotient's).
	RetryWaits []time.Duration `yaml:"retry_waits,omitempty,flow"`

	// Timeouts are the per-attempt timeouts of attempts 1, 2, 3…; the last
	// repeats. Default 30s, 60s, 150s.
	Timeouts []time.Duration `yaml:"timeouts,omitempty,flow"`

	// MaxRetries is the number of retries after the first attempt (429s do
	// not count). Default 3; 0 means no retry.
	MaxRetries *int `yaml:"max_retries,omitempty"`

	// MaxRateLimitWait gives an invite up as TooManyRequests once it has
	// been rate limited this long. Default 24h.
	MaxRateLimitWait time.Duration `yaml:"max_rate_limit_wait,omitempty"`

	// ShutdownTimeout is how long in-flight invites may finish on
	// SIGTERM/SIGINT before they go back to the queue. Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout,omitempty"`

	// FinalOn5xx ends an invite on an ambiguous 5xx or timeout instead of
	// re-checking and retrying it. Default false.
	FinalOn5xx bool `yaml:"final_on_5xx,omitempty"`

	// NoTxnID sends POST invites, never the idempotent PUT /invite/{txnId}.
	// Default false.
	NoTxnID bool `yaml:"no_txn_id,omitempty"`

	// Breaker pauses a campaign whose first Breaker finished invites all
	// failed the same way (worker --breaker). Default 5; 0 turns it off.
	Breaker *int `yaml:"breaker,omitempty"`

	// Scheduler makes the worker also fire recurring campaigns. Default false.
	Scheduler bool `yaml:"scheduler,omitempty"`

	// Lookup is resolve-first (worker --lookup): "on" looks each address
	// up on the identity server and invites a bound one by its Matrix ID,
	// "off" invites every address by 3PID. Default "on".
	Lookup string `yaml:"lookup,omitempty"`

	// TrackEvery is how often the worker refreshes who joined (worker
	// --track-every). Default 1h; 0 turns it off.
	TrackEvery *time.Duration `yaml:"track_every,omitempty"`
}

// Sender is one account invites are sent from.
type Sender struct {
	// Name is what tasks put in their "sender" field (enqueue --sender).
	// Required, unique.
	Name string `yaml:"name"`

	// Homeserver is the client-server API base URL with its scheme, e.g.
	// https://matrix.example.org. Required.
	Homeserver string `yaml:"homeserver"`

	// AccessTokenFile holds the account's access token on one line.
	// Required (unless set from the environment, see AccessToken).
	AccessTokenFile string `yaml:"access_token_file,omitempty"`

	// IdentityServers are the identity servers this sender names; the first
	// is used when a task names none. Default none: every task must name one.
	IdentityServers []IdentityServer `yaml:"identity_servers,omitempty"`

	// Concurrency is this sender's invites in flight in one worker process
	// (its own slots: another sender's backlog never takes them). Default
	// 0: the worker's concurrency.
	Concurrency int `yaml:"concurrency,omitempty"`

	// AccessToken is the token itself when the command line or the
	// environment gave it (MXINVITE_ACCESS_TOKEN), never from the file;
	// when set, AccessTokenFile is not read again. Never printed.
	AccessToken string `yaml:"-"`
}

// IdentityServer is an identity server and the token registered with it.
type IdentityServer struct {
	// Host is hostname[:port], as an invite's id_server. Required.
	Host string `yaml:"host"`
	// TokenFile holds the identity access token on one line. Default none:
	// invites naming Host carry no id_access_token.
	TokenFile string `yaml:"token_file,omitempty"`
	// Token is the token itself when the command line or the environment
	// gave it (MXINVITE_ID_ACCESS_TOKEN), never from the file; when set,
	// TokenFile is not read again. Never printed.
	Token string `yaml:"-"`
}
