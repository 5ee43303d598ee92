package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

func workerCommand() *cli.Command {
	flags := append(redisFlags(), logFlags()...)
	flags = append(flags, profileFlags()...)
	flags = append(flags, acceptTermsFlag())
	flags = append(flags, opsFlags()...)
	flags = append(flags, dashboardFlags()...)
	flags = append(flags,
		&cli.IntFlag{Name: "concurrency", Value: worker.DefaultConcurrency, Sources: env("concurrency"), Usage: "invites in flight at once in this process"},
		&cli.StringFlag{Name: "retry-waits", Value: matrix.FormatDurations(matrix.DefaultRetryPolicy().Waits), Sources: env("retry-waits"), Usage: "waits before retries 1, 2, 3…; the last repeats"},
		&cli.StringFlag{Name: "timeouts", Value: matrix.FormatDurations(matrix.DefaultRetryPolicy().Timeouts), Sources: env("timeouts"), Usage: "per-attempt timeouts for attempts 1, 2, 3…; the last repeats"},
		&cli.IntFlag{Name: "max-retries", Value: matrix.DefaultRetryPolicy().MaxRetries, Sources: env("max-retries"), Usage: "retries after the first attempt (429s do not count)"},
		&cli.DurationFlag{Name: "max-rate-limit-wait", Value: worker.DefaultMaxRateLimitWait, Sources: env("max-rate-limit-wait"),
			Usage: "give an invite up as TooManyRequests once rate limited this long"},
		&cli.BoolFlag{Name: "final-on-5xx", Sources: env("final-on-5xx"),
			Usage: "end an invite on an ambiguous 5xx or timeout instead of re-checking and retrying (no second email, ever)"},
		&cli.BoolFlag{Name: "no-txn-id", Sources: env("no-txn-id"), Usage: "send POST invites, never the idempotent PUT /invite/{txnId}"},
		&cli.DurationFlag{Name: "shutdown-timeout", Value: worker.DefaultShutdownTimeout, Sources: env("shutdown-timeout"),
			Usage: "on SIGTERM/SIGINT, how long in-flight invites may finish before they go back to the queue"},
		&cli.BoolFlag{Name: "until-idle", Sources: env("until-idle"),
			Usage: "exit 0 once every invite is final, or 4 when the only ones left wait behind a pause"},
		&cli.IntFlag{Name: "breaker", Value: worker.DefaultBreaker, Sources: env("breaker"),
			Usage: "pause a campaign when its first N finished invites all failed the same way (0: never)"},
		&cli.IntFlag{Name: "backoff-threshold", Value: worker.DefaultBackoffThreshold, Sources: env("backoff-threshold"),
			Usage: "back the sender off when this many different invites get 5xx/timeouts with no success between them"},
		&cli.DurationFlag{Name: "backoff-max", Value: worker.DefaultBackoffMax, Sources: env("backoff-max"),
			Usage: "longest wait of a sender back-off (its waits are --retry-waits, then doubling)"},
		&cli.StringFlag{Name: "lookup", Value: "on", Sources: env("lookup"),
			Usage: "on: look each address up on the identity server first (v2 hashed lookup) and invite a bound one by its Matrix ID " +
				"(rc_invites, not Synapse's tiny 3PID limit; none at all when already in the room); off: invite every address by 3PID"},
		&cli.DurationFlag{Name: "track-every", Value: worker.DefaultTrackEvery, Sources: env("track-every"),
			Usage: "refresh who registered and joined (as mxinvite track) this often, for campaigns with invitees not joined yet (0: never)"},
		&cli.BoolFlag{Name: "scheduler", Sources: env("scheduler"),
			Usage: "also fire recurring campaigns (see mxinvite schedule)"},
		&cli.IntFlag{Name: "results-stream-max", Value: worker.DefaultStreamMaxLen, Sources: env("results-stream-max"),
			Usage: "keep about this many entries in the results stream (XADD MAXLEN ~, ~300 B each); 0: no cap"},
		&cli.DurationFlag{Name: "finished-ttl", Sources: env("finished-ttl"),
			Usage: "delete a finished invite's record this long after its result (default: kept until mxinvite purge); " +
				"once deleted, the same address can be invited again"},
	)
	return &cli.Command{
		Name:         "worker",
		Usage:        "send queued invites until stopped (SIGTERM/SIGINT) or, with --until-idle, until none is left",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runWorker,
	}
}

func runWorker(ctx context.Context, cmd *cli.Command) error {
	log, err := newLogger(cmd, cmd.Root().ErrWriter)
	if err != nil {
		return err
	}
	profiles, err := senderProfiles(cmd)
	if err != nil {
		return err
	}
	policy, err := policyFromFlags(cmd)
	if err != nil {
		return err
	}
	noLookup, err := lookupFlag(cmd)
	if err != nil {
		return err
	}
	opt, rdb, err := connectRedis(ctx, cmd)
	if err != nil {
		return err
	}
	opsSrv, err := newOpsServer(cmd, opt, log, profiles)
	if err != nil {
		_ = rdb.Close()
		return err
	}
	w, err := worker.New(worker.Config{
		StreamMaxLen:        int64(config.OffIfZero(cmd.Int("results-stream-max"))), // ranges.go: not negative
		FinishedTTL:         cmd.Duration("finished-ttl"),
		Redis:               opt,
		Profiles:            profiles,
		Policy:              policy,
		Concurrency:         cmd.Int("concurrency"),
		Queue:               cmd.String("queue"),
		KeyPrefix:           cmd.String("prefix"),
		MaxRateLimitWait:    cmd.Duration("max-rate-limit-wait"),
		FinalOn5xx:          cmd.Bool("final-on-5xx"),
		NoTxnID:             cmd.Bool("no-txn-id"),
		ShutdownTimeout:     cmd.Duration("shutdown-timeout"),
		Breaker:             config.OffIfZero(cmd.Int("breaker")),
		AcceptIdentityTerms: cmd.Bool("accept-identity-terms"),
		BackoffThreshold:    cmd.Int("backoff-threshold"),
		BackoffMax:          cmd.Duration("backoff-max"),
		IdentityScheme:      cmd.String("identity-scheme"),
		NoLookup:            noLookup,
		TrackEvery:          trackEvery(cmd.Duration("track-every")),
		Logger:              log,
		Observer:            opsSrv.observer(),
	})
	if err != nil {
		opsSrv.stop()
		return usageErr("%v", err)
	}
	if err := opsSrv.start(cmd, w); err != nil {
		_ = rdb.Close()
		return err
	}
	defer opsSrv.stop()
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if cmd.Bool("scheduler") {
		sched := newRunner(cmd, rdb, log)
		done := make(chan struct{})
		sctx, cancel := context.WithCancel(ctx)
		go func() { _ = sched.Run(sctx); close(done) }()
		defer func() { cancel(); <-done; _ = rdb.Close() }()
	} else {
		_ = rdb.Close()
	}
	log.Info().Stringers("profiles", stringers(profiles)).Int("concurrency", cmd.Int("concurrency")).Msg("worker starting")
	if err := w.Run(ctx, cmd.Bool("until-idle")); err != nil {
		return workerError(err)
	}
	log.Info().Msg("worker stopped")
	return nil
}

// lookupFlag reads --lookup: on (resolve-first) or off.
func lookupFlag(cmd *cli.Command) (noLookup bool, err error) {
	switch cmd.String("lookup") {
	case "on":
		return false, nil
	case "off":
		return true, nil
	}
	return false, usageErr("--lookup %q: want on or off", cmd.String("lookup"))
}

func policyFromFlags(cmd *cli.Command) (matrix.RetryPolicy, error) {
	waits, err := matrix.ParseDurations(cmd.String("retry-waits"))
	if err != nil {
		return matrix.RetryPolicy{}, usageErr("--retry-waits: %v", err)
	}
	timeouts, err := matrix.ParseDurations(cmd.String("timeouts"))
	if err != nil {
		return matrix.RetryPolicy{}, usageErr("--timeouts: %v", err)
	}
	p := matrix.RetryPolicy{Waits: waits, Timeouts: timeouts, MaxRetries: cmd.Int("max-retries")}
	if err := p.Validate(); err != nil {
		return p, usageErr("retry policy (--retry-waits, --timeouts, --max-retries): %v", err)
	}
	return p.WithDefaults(), nil
}

// profileFlags describe the sender: its homeserver, tokens and identity server.
func profileFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "homeserver", Sources: env("homeserver"), Usage: "homeserver base URL, e.g. https://matrix.example.org"},
		&cli.StringFlag{Name: "access-token-file", Sources: env("access-token-file"),
			Usage: "file holding the sender's access token (or set MXINVITE_ACCESS_TOKEN)"},
		&cli.StringFlag{Name: "id-server", Sources: env("id-server"), Usage: "default identity server, hostname[:port]"},
		&cli.StringFlag{Name: "id-access-token-file", Sources: env("id-access-token-file"),
			Usage: "file holding the identity server access token (or set MXINVITE_ID_ACCESS_TOKEN)"},
		&cli.StringFlag{Name: "sender", Value: tasks.DefaultSender, Sources: env("sender"), Usage: "sender profile name tasks refer to"},
		&cli.StringFlag{Name: "identity-scheme", Value: "https", Sources: env("identity-scheme"), Hidden: true,
			Usage: "scheme used to reach identity servers for checks (http only for the simulator)"},
	}
}

// workerError gives a worker's end its exit code: a sender that cannot
// work is a usage error (2), invites left behind a pause are 4.
func workerError(err error) error {
	var held *record.HeldError
	switch {
	case errors.As(err, &held):
		return &codedError{err: fmt.Errorf("%v; see mxinvite status, then mxinvite resume", held), code: exitHeld}
	case errors.Is(err, worker.ErrSenderUnusable):
		return usageErr("worker: %v", err)
	}
	return fail("worker: %v", err)
}

// trackEvery is --track-every for worker.Config: 0 on the command line is
// never (worker.Off), as 0 turns other limits off.
func trackEvery(d time.Duration) time.Duration {
	if d == 0 {
		return worker.Off
	}
	return d
}
