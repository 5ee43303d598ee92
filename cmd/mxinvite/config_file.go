package main

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/config"
)

// configFlag is --config, on every command that talks to Redis (redisFlags)
// and so on every one that talks to a homeserver.
func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Sources: env("config"),
		Usage: "YAML configuration file (see docs/config.example.yaml); flags and MXINVITE_* variables override it"}
}

// attachConfigFile makes every command with --config read the file before
// its action: the file supplies the value of each flag the command line and
// the environment leave unset, so the commands read their flags as always
// and the precedence is flag > environment > file > the flag's default.
func attachConfigFile(root *cli.Command) {
	_ = root.Walk(func(c *cli.Command) error {
		if !slices.ContainsFunc(c.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), "config") }) {
			return nil
		}
		before := c.Before
		c.Before = func(ctx context.Context, cmd *cli.Command) (context.Context, error) {
			if err := applyConfigFile(cmd); err != nil {
				return ctx, err
			}
			if before != nil {
				return before(ctx, cmd)
			}
			return ctx, nil
		}
		return nil
	})
}

// loadedConfig is the file a command read, kept in its Metadata.
type loadedConfig struct {
	path string
	cfg  config.Config // with defaults, validated
	// fromFile are the flags whose value the file gave.
	fromFile map[string]bool
}

const configMetadataKey = "mxinvite.config"

// fileConfig returns what the command read from --config (ok false without one).
func fileConfig(cmd *cli.Command) (loadedConfig, bool) {
	lc, ok := cmd.Metadata[configMetadataKey].(loadedConfig)
	return lc, ok
}

// fileSetting maps a key of the file to the flag it supplies.
type fileSetting struct {
	key, flag string
	// worker: a worker setting, applied only by the commands in
	// workerSettingsCommands (enqueue's --concurrency means something else).
	worker bool
	// optional: commands without the flag ignore the key (log settings on
	// commands that do not log); otherwise the key is an error there.
	optional bool
	// value is the flag value the file gives, "" when it says nothing.
	value func(c config.Config, raw config.Config) (string, error)
}

// workerSettingsCommands take the worker section.
var workerSettingsCommands = []string{"mxinvite worker", configCheckCommand}

const configCheckCommand = "mxinvite config check"

// senderCheckedCommands refuse a --sender the file does not name: the
// invites they enqueue would wait for a worker that does not exist.
var senderCheckedCommands = []string{"mxinvite enqueue", "mxinvite invite", "mxinvite schedule add"}

func str(get func(config.Config) string) func(config.Config, config.Config) (string, error) {
	return func(_, raw config.Config) (string, error) { return get(raw), nil }
}

func durations(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ",")
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

// fileSettings is every key that supplies a flag. A key is read from the
// file as written (raw), before defaults: a default is the flag's business.
var fileSettings = []fileSetting{
	{key: "redis", flag: "redis", value: func(c, raw config.Config) (string, error) {
		if raw.Redis.URL == "" && raw.Redis.Username == "" && raw.Redis.PasswordFile == "" && raw.Redis.Sentinel.Master == "" {
			return "", nil
		}
		return c.Redis.ConnURL()
	}},
	{key: "redis.tls_ca_file", flag: "redis-ca-file", value: str(func(r config.Config) string { return r.Redis.TLSCAFile })},
	{key: "prefix", flag: "prefix", value: str(func(r config.Config) string { return r.Prefix })},
	{key: "queue", flag: "queue", value: str(func(r config.Config) string { return r.Queue })},
	{key: "log.level", flag: "log-level", optional: true, value: str(func(r config.Config) string { return r.Log.Level })},
	{key: "log.format", flag: "log-format", optional: true, value: str(func(r config.Config) string { return r.Log.Format })},
	{key: "worker.concurrency", flag: "concurrency", worker: true, value: str(func(r config.Config) string {
		if r.Worker.Concurrency == 0 {
			return ""
		}
		return strconv.Itoa(r.Worker.Concurrency)
	})},
	{key: "worker.retry_waits", flag: "retry-waits", worker: true, value: str(func(r config.Config) string { return durations(r.Worker.RetryWaits) })},
	{key: "worker.timeouts", flag: "timeouts", worker: true, value: str(func(r config.Config) string { return durations(r.Worker.Timeouts) })},
	{key: "worker.max_retries", flag: "max-retries", worker: true, value: str(func(r config.Config) string { return optInt(r.Worker.MaxRetries) })},
	{key: "worker.max_rate_limit_wait", flag: "max-rate-limit-wait", worker: true,
		value: str(func(r config.Config) string { return optDuration(r.Worker.MaxRateLimitWait) })},
	{key: "worker.shutdown_timeout", flag: "shutdown-timeout", worker: true,
		value: str(func(r config.Config) string { return optDuration(r.Worker.ShutdownTimeout) })},
	{key: "worker.final_on_5xx", flag: "final-on-5xx", worker: true, value: str(func(r config.Config) string { return optBool(r.Worker.FinalOn5xx) })},
	{key: "worker.no_txn_id", flag: "no-txn-id", worker: true, value: str(func(r config.Config) string { return optBool(r.Worker.NoTxnID) })},
	{key: "worker.breaker", flag: "breaker", worker: true, value: str(func(r config.Config) string { return optInt(r.Worker.Breaker) })},
	{key: "worker.scheduler", flag: "scheduler", worker: true, value: str(func(r config.Config) string { return optBool(r.Worker.Scheduler) })},
	// Commands that read no list ignore it.
	{key: "lists.region", flag: "region", optional: true, value: str(func(r config.Config) string { return r.Lists.Region })},
	// The first sender is the default of --sender.
	{key: "senders", flag: "sender", optional: true, value: str(func(r config.Config) string {
		if len(r.Senders) == 0 {
			return ""
		}
		return r.Senders[0].Name
	})},
}

// applyConfigFile reads --config, if given, and supplies the flags it sets
// that nothing else set. Any problem is exit code 2 before anything is done.
func applyConfigFile(cmd *cli.Command) error {
	path := cmd.String("config")
	if path == "" {
		return nil
	}
	raw, err := config.Load(path)
	if err != nil {
		return usageErr("--config: %v", err)
	}
	cfg := raw.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return usageErr("--config %s: %v", path, err)
	}
	lc := loadedConfig{path: path, cfg: cfg, fromFile: map[string]bool{}}
	workerCmd := slices.Contains(workerSettingsCommands, cmd.FullName())
	for _, s := range fileSettings {
		if s.worker && !workerCmd {
			continue
		}
		v, err := s.value(cfg, raw)
		if err != nil && cmd.FullName() == configCheckCommand {
			// config check reports an unreadable password file among its
			// checks, after printing the configuration.
			lenient := cfg
			lenient.Redis.PasswordFile = ""
			v, err = s.value(lenient, raw)
		}
		if err != nil {
			return usageErr("--config %s: %v", path, err)
		}
		switch {
		case v == "":
			continue
		case !hasFlag(cmd, s.flag):
			if s.optional {
				continue
			}
			return usageErr("--config %s: %s: not supported by this version of mxinvite %s (it has no --%s)", path, s.key, cmd.Name, s.flag)
		case cmd.IsSet(s.flag):
			continue // the command line or the environment wins
		}
		if err := cmd.Set(s.flag, v); err != nil {
			return usageErr("--config %s: %s: %v", path, s.key, err)
		}
		lc.fromFile[s.flag] = true
	}
	if cmd.Metadata == nil {
		cmd.Metadata = map[string]any{}
	}
	cmd.Metadata[configMetadataKey] = lc
	if slices.Contains(senderCheckedCommands, cmd.FullName()) && len(cfg.Senders) > 0 {
		if name := cmd.String("sender"); !slices.Contains(cfg.SenderNames(), name) {
			return usageErr("--sender %q: %s names no such sender (it has %s); no worker would send these invites",
				name, path, strings.Join(cfg.SenderNames(), ", "))
		}
	}
	return nil
}

func hasFlag(cmd *cli.Command, name string) bool {
	return slices.ContainsFunc(cmd.Flags, func(f cli.Flag) bool { return slices.Contains(f.Names(), name) })
}
