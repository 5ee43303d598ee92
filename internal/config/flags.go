package config

import (
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/matrix"
)

// FlagSetting maps a key of the file to the command-line flag it supplies:
// the file gives the value of each flag the command line and the
// environment leave unset (flag > environment > file > the flag's default).
type FlagSetting struct {
	Key, Flag string
	// Worker: a worker setting, applied only by the worker's commands
	// (worker, config check: enqueue's --concurrency means something else).
	Worker bool
	// Optional: commands without the flag ignore the key (log settings on
	// commands that do not log); otherwise the key is an error there.
	Optional bool
	// Value is the flag value the file gives, "" when it says nothing.
	Value func(c Config, raw Config) (string, error)
}

func str(get func(Config) string) func(Config, Config) (string, error) {
	return func(_, raw Config) (string, error) { return get(raw), nil }
}

func optInt(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func optBool(b bool) string {
	if !b {
		return "" // false is every such flag's default: nothing to supply
	}
	return "true"
}

func optDuration(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// FlagSettings is every key that supplies a flag. A key is read from the
// file as written (raw), before defaults: a default is the flag's business.
func FlagSettings() []FlagSetting {
	return []FlagSetting{
		{Key: "redis", Flag: "redis", Value: func(c, raw Config) (string, error) {
			if raw.Redis.URL == "" && raw.Redis.Username == "" && raw.Redis.PasswordFile == "" && raw.Redis.Sentinel.Master == "" {
				return "", nil
			}
			return c.Redis.ConnURL()
		}},
		{Key: "redis.tls_ca_file", Flag: "redis-ca-file", Value: str(func(r Config) string { return r.Redis.TLSCAFile })},
		{Key: "prefix", Flag: "prefix", Value: str(func(r Config) string { return r.Prefix })},
		{Key: "queue", Flag: "queue", Value: str(func(r Config) string { return r.Queue })},
		{Key: "log.level", Flag: "log-level", Optional: true, Value: str(func(r Config) string { return r.Log.Level })},
		{Key: "log.format", Flag: "log-format", Optional: true, Value: str(func(r Config) string { return r.Log.Format })},
		{Key: "worker.concurrency", Flag: "concurrency", Worker: true, Value: str(func(r Config) string {
			if r.Worker.Concurrency == 0 {
				return ""
			}
			return strconv.Itoa(r.Worker.Concurrency)
		})},
		{Key: "worker.retry_waits", Flag: "retry-waits", Worker: true, Value: str(func(r Config) string { return matrix.FormatDurations(r.Worker.RetryWaits) })},
		{Key: "worker.timeouts", Flag: "timeouts", Worker: true, Value: str(func(r Config) string { return matrix.FormatDurations(r.Worker.Timeouts) })},
		{Key: "worker.max_retries", Flag: "max-retries", Worker: true, Value: str(func(r Config) string { return optInt(r.Worker.MaxRetries) })},
		{Key: "worker.max_rate_limit_wait", Flag: "max-rate-limit-wait", Worker: true,
			Value: str(func(r Config) string { return optDuration(r.Worker.MaxRateLimitWait) })},
		{Key: "worker.shutdown_timeout", Flag: "shutdown-timeout", Worker: true,
			Value: str(func(r Config) string { return optDuration(r.Worker.ShutdownTimeout) })},
		{Key: "worker.final_on_5xx", Flag: "final-on-5xx", Worker: true, Value: str(func(r Config) string { return optBool(r.Worker.FinalOn5xx) })},
		{Key: "worker.no_txn_id", Flag: "no-txn-id", Worker: true, Value: str(func(r Config) string { return optBool(r.Worker.NoTxnID) })},
		{Key: "worker.breaker", Flag: "breaker", Worker: true, Value: str(func(r Config) string { return optInt(r.Worker.Breaker) })},
		{Key: "worker.scheduler", Flag: "scheduler", Worker: true, Value: str(func(r Config) string { return optBool(r.Worker.Scheduler) })},
		{Key: "worker.lookup", Flag: "lookup", Worker: true, Value: str(func(r Config) string { return r.Worker.Lookup })},
		{Key: "worker.track_every", Flag: "track-every", Worker: true, Value: str(func(r Config) string {
			if r.Worker.TrackEvery == nil {
				return ""
			}
			return r.Worker.TrackEvery.String()
		})},
		// Commands that read no list ignore it.
		{Key: "lists.region", Flag: "region", Optional: true, Value: str(func(r Config) string { return r.Lists.Region })},
		{Key: "campaigns.priority", Flag: "priority", Optional: true, Value: str(func(r Config) string { return r.Campaigns.Priority })},
		// The first sender is the default of --sender.
		{Key: "senders", Flag: "sender", Optional: true, Value: str(func(r Config) string {
			if len(r.Senders) == 0 {
				return ""
			}
			return r.Senders[0].Name
		})},
	}
}
