// Command mxinvite sends Matrix third-party invites (email address or phone
// number → room) in the background: producers enqueue invite tasks in Redis,
// workers send them honouring retries and rate limits, and every invite's
// final status code is kept in Redis.
//
// This package only wires flags to the worker, tasks and matrix packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v3"
)

type silentRedisLogger struct{}

func (silentRedisLogger) Printf(context.Context, string, ...any) {}

// Exit codes.
const (
	exitFailure   = 1 // the command ran and failed
	exitUsage     = 2 // bad flag, unreachable Redis, malformed token file: nothing was done
	exitPreflight = 3 // a preflight check failed: nothing was enqueued
	exitHeld      = 4 // worker --until-idle: the only invites left wait behind a pause
)

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// go-redis prints its connection-pool retries itself; the commands report
	// the one error that matters, once.
	redis.SetLogger(silentRedisLogger{})
	defer startProfiles(stderr)()
	app := newApp(stdout, stderr)
	err := checkCommandNames(app, args[1:])
	if err == nil {
		err = app.Run(ctx, args)
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "mxinvite: "+err.Error())
	var ec exitCoder
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode()
	case badSourceValue.MatchString(err.Error()):
		return exitUsage
	}
	return exitFailure
}

type exitCoder interface{ ExitCode() int }

// codedError carries an exit code with its one-line message.
type codedError struct {
	err  error
	code int
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }
func (e *codedError) ExitCode() int { return e.code }

// usageErr marks a problem with what the user asked: exit code 2.
func usageErr(format string, args ...any) error {
	return &codedError{err: fmt.Errorf(format, args...), code: exitUsage}
}

func newApp(stdout, stderr io.Writer) *cli.Command {
	app := &cli.Command{
		Name:      "mxinvite",
		Usage:     "send Matrix third-party invites in the background, and keep every result",
		Version:   version(),
		Writer:    stdout,
		ErrWriter: stderr,
		// Errors are printed once, by run, as one line.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		OnUsageError:   onUsageError,
		ArgValidator:   noArguments,
		// `mxinvite completion bash|zsh|fish` prints the script; the
		// scripts call mxinvite with --generate-shell-completion.
		EnableShellCompletion: true,
		ConfigureShellCompletionCommand: func(c *cli.Command) {
			c.Hidden = false
			c.Usage = "print the shell completion script: mxinvite completion bash|zsh|fish|pwsh"
		},
		Commands: []*cli.Command{
			workerCommand(),
			inviteCommand(),
			enqueueCommand(),
			preflightCommand(),
			statusCommand(),
			trackCommand(),
			campaignsCommand(),
			resultsCommand(),
			simulateCommand(),
			scheduleCommand(),
			schedulerCommand(),
			cancelCommand(),
			retryCommand(),
			resumeCommand(),
			ratelimitCommand(),
			purgeCommand(),
			demoCommand(),
			configCommand(),
			probeCommand(),
			dashboardCommand(),
			manCommand(),
		},
	}
	attachConfigFile(app)
	applyEnvVars(app)
	checkNumericFlags(app)
	usageErrorsAreExit2(app)
	return app
}

// onUsageError turns urfave's usage errors (unknown flag, bad value) into
// one line and exit code 2, naming a bad value's flag as it is typed.
func onUsageError(_ context.Context, cmd *cli.Command, err error, _ bool) error {
	err = suggestFlag(cmd, err)
	if m := badFlagValue.FindStringSubmatch(err.Error()); m != nil {
		err = fmt.Errorf("--%s %q: %s", m[2], m[1], m[3])
	}
	return &codedError{err: err, code: exitUsage}
}

// badFlagValue is urfave's message for a value a flag refused.
var badFlagValue = regexp.MustCompile(`^invalid value "(.*)" for flag -(\S+): (.*)$`)

// badSourceValue is urfave's message for a value from an environment
// variable that a flag refused; urfave returns it without calling
// OnUsageError, so run maps it to exit code 2 (TestBadEnvironmentValueIsExit2).
var badSourceValue = regexp.MustCompile(`^could not parse ".*" as .* value from .* for flag \S+: `)
