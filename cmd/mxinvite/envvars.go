package main

import (
	"strings"

	"github.com/urfave/cli/v3"
)

// The environment-variable policy, in one place (README "Environment
// variables" states it, and TestREADMEListsTheEnvironmentVariables compares
// the two): every flag can be set by MXINVITE_<FLAG> except the ones below.

// noEnvFlags are flags that say what one run does: a variable left set in a
// shell or a container would silently repeat it (re-invite everyone, skip
// the preflight, send at a time long past).
var noEnvFlags = map[string][]string{
	"invite":       {"address", "at", "in", "again"},
	"enqueue":      {"at", "in", "spread", "again", "dry-run", "no-preflight"},
	"results":      {"failed", "joined", "pending", "output"},
	"retry":        {"status", "address"},
	"cancel":       {"address"},
	"status":       {"watch"},
	"schedule add": {"cron"},
}

// noEnvCommands are for trying mxinvite out on one machine: their flags
// have no variables (demo --redis keeps MXINVITE_DEMO_REDIS, set in its
// definition, so that a production MXINVITE_REDIS is never used by the demo).
var noEnvCommands = map[string]bool{"simulate": true, "demo": true}

// envRenamed are flags whose variable is not MXINVITE_<FLAG>, because
// another command's flag of the same name means something else.
var envRenamed = map[string]string{
	// MXINVITE_CONCURRENCY is the worker's invites in flight, set in the
	// docker-compose worker that `docker compose run worker enqueue` shares.
	"enqueue --concurrency": "MXINVITE_ENQUEUE_CONCURRENCY",
}

// envVarName is MXINVITE_ and the flag name upper-cased, '-' as '_'.
func envVarName(flag string) string {
	return "MXINVITE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// env names the environment variable that may also set a flag.
func env(flag string) cli.ValueSourceChain { return cli.EnvVars(envVarName(flag)) }

// applyEnvVars gives every flag of the tree without sources its variable,
// following the policy above.
func applyEnvVars(root *cli.Command) {
	walkCommands(root, func(path string, cmd *cli.Command) {
		skip := map[string]bool{}
		for _, f := range noEnvFlags[path] {
			skip[f] = true
		}
		for _, f := range cmd.Flags {
			name := f.Names()[0]
			if noEnvCommands[path] || skip[name] {
				continue
			}
			v := envVarName(name)
			if renamed, ok := envRenamed[path+" --"+name]; ok {
				v = renamed
			}
			setEnvVar(f, v)
		}
	})
}

// setEnvVar sets a flag's sources to the variable, unless its definition
// already names some.
func setEnvVar(f cli.Flag, v string) {
	switch f := f.(type) {
	case *cli.StringFlag:
		setSources(f, v)
	case *cli.BoolFlag:
		setSources(f, v)
	case *cli.IntFlag:
		setSources(f, v)
	case *cli.DurationFlag:
		setSources(f, v)
	case *cli.Float64Flag:
		setSources(f, v)
	default:
		// A new flag type: TestEveryFlagFollowsTheEnvPolicy fails on it.
	}
}

func setSources[T, C any, VC cli.ValueCreator[T, C]](f *cli.FlagBase[T, C, VC], v string) {
	if len(f.Sources.Chain) == 0 {
		f.Sources = cli.EnvVars(v)
	}
}

// walkCommands calls fn for every command below root with its path
// ("enqueue", "schedule add").
func walkCommands(root *cli.Command, fn func(path string, cmd *cli.Command)) {
	var walk func(prefix string, c *cli.Command)
	walk = func(prefix string, c *cli.Command) {
		for _, sub := range c.Commands {
			path := strings.TrimSpace(prefix + " " + sub.Name)
			fn(path, sub)
			walk(path, sub)
		}
	}
	walk("", root)
}
