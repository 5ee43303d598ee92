package main

import (
	"context"
	"slices"
	"strings"

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

// workerSettingsCommands take the worker section.
var workerSettingsCommands = []string{"mxinvite worker", configCheckCommand}

const configCheckCommand = "mxinvite config check"

// senderCheckedCommands refuse a --sender the file does not name: the
// invites they enqueue would wait for a worker that does not exist.
var senderCheckedCommands = []string{"mxinvite enqueue", "mxinvite invite", "mxinvite schedule add"}

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
	for _, s := range config.FlagSettings() {
		if s.Worker && !workerCmd {
			continue
		}
		v, err := s.Value(cfg, raw)
		if err != nil && cmd.FullName() == configCheckCommand {
			// config check reports an unreadable password file among its
			// checks, after printing the configuration.
			lenient := cfg
			lenient.Redis.PasswordFile = ""
			v, err = s.Value(lenient, raw)
		}
		if err != nil {
			return usageErr("--config %s: %v", path, err)
		}
		switch {
		case v == "":
			continue
		case !hasFlag(cmd, s.Flag):
			if s.Optional {
				continue
			}
			return usageErr("--config %s: %s: not supported by this version of mxinvite %s (it has no --%s)", path, s.Key, cmd.Name, s.Flag)
		case cmd.IsSet(s.Flag):
			continue // the command line or the environment wins
		}
		if err := cmd.Set(s.Flag, v); err != nil {
			return usageErr("--config %s: %s: %v", path, s.Key, err)
		}
		lc.fromFile[s.Flag] = true
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
