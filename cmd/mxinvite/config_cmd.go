package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/config"
	"github.com/mxinvite/mxinvite/tasks"
)

func configCommand() *cli.Command {
	// check takes the worker's flags, so that it shows what a worker with
	// the same command line and environment would use.
	flags := append(workerCommand().Flags,
		&cli.BoolFlag{Name: "offline", Usage: "check the file and the files it names only: no Redis, no whoami"})
	return &cli.Command{
		Name:  "config",
		Usage: "the configuration file (--config, MXINVITE_CONFIG)",
		Commands: []*cli.Command{{
			Name: "check",
			Usage: "validate the configuration (keys, URLs, token files readable, Redis answers, whoami per sender) " +
				"and print it with secrets redacted; exit 2 on any problem",
			Flags:        flags,
			OnUsageError: onUsageError,
			Action:       runConfigCheck,
		}},
	}
}

// whoamiTimeout bounds each sender's whoami in config check.
const whoamiTimeout = 15 * time.Second

func runConfigCheck(ctx context.Context, cmd *cli.Command) error {
	eff, err := effectiveConfig(cmd)
	if err != nil {
		return err
	}
	out := cmd.Root().Writer
	source := "no --config file"
	if lc, ok := fileConfig(cmd); ok {
		source = lc.path
	}
	doc, err := eff.Redacted().YAML()
	if err != nil {
		return fail("printing the configuration: %v", err)
	}
	// The checks are YAML comments: the whole output is a valid file.
	fmt.Fprintf(out, "# effective configuration: %s, with flags and environment applied; secrets redacted\n", source)
	_, _ = out.Write(doc)
	writeQueues(out, eff)
	c := &checklist{out: out}
	c.files(eff)
	if !cmd.Bool("offline") {
		c.network(ctx, cmd)
	}
	if len(c.problems) > 0 {
		return &codedError{err: fmt.Errorf("config check: %d problem(s) (first: %s)", len(c.problems), c.problems[0]), code: exitUsage}
	}
	return nil
}

// writeQueues says which asynq queues a worker with this configuration
// serves: each sender's lanes (its own slots, so that no sender waits
// behind another's backlog), and the base queue of earlier releases.
func writeQueues(out io.Writer, eff config.Config) {
	names := []string{tasks.DefaultSender}
	if len(eff.Senders) > 0 {
		names = names[:0]
		for _, s := range eff.Senders {
			names = append(names, s.Name)
		}
	}
	fmt.Fprintf(out, "# queues: %s (invites queued by earlier releases)\n", eff.Queue)
	for _, n := range names {
		fmt.Fprintf(out, "# queues of sender %s: %s (high, normal lanes, low)\n", n, strings.Join(tasks.SenderQueues(eff.Queue, n), " "))
	}
}

// checklist prints each check as it is done and keeps the failures.
type checklist struct {
	out      io.Writer
	problems []string
}

func (c *checklist) report(err error, name, detail string) {
	if err != nil {
		fmt.Fprintf(c.out, "# ✗ %s: %v\n", name, err)
		c.problems = append(c.problems, fmt.Sprintf("%s: %v", name, err))
		return
	}
	fmt.Fprintf(c.out, "# ✓ %s: %s\n", name, detail)
}

// files checks every file the configuration names can be read and holds
// what it should: one-line secrets, PEM certificates.
func (c *checklist) files(eff config.Config) {
	if eff.Redis.PasswordFile != "" {
		_, err := config.ReadSecretFile("redis.password_file", eff.Redis.PasswordFile)
		c.report(err, "redis password", eff.Redis.PasswordFile+" readable")
	}
	if ca := eff.Redis.TLSCAFile; ca != "" {
		pem, err := os.ReadFile(ca)
		if err == nil && !x509.NewCertPool().AppendCertsFromPEM(pem) {
			err = fmt.Errorf("redis.tls_ca_file %s: no PEM certificate in it", ca)
		}
		c.report(err, "redis CA", ca+" holds certificates")
	}
	for i, s := range eff.Senders {
		_, err := s.Profile(fmt.Sprintf("senders[%d]", i))
		c.report(err, "sender "+s.Name+" tokens", "readable")
	}
}

// network checks Redis answers and every sender's token with whoami.
func (c *checklist) network(ctx context.Context, cmd *cli.Command) {
	if _, rdb, err := connectRedis(ctx, cmd); err != nil {
		c.report(err, "redis", "")
	} else {
		_ = rdb.Close()
		c.report(nil, "redis", redactURL(cmd.String("redis"))+" answers")
	}
	profiles, err := senderProfiles(cmd)
	if err != nil {
		return // reported by files
	}
	for _, p := range profiles {
		wctx, cancel := context.WithTimeout(ctx, whoamiTimeout)
		user, o := matrixClient(cmd, p).WhoAmI(wctx)
		cancel()
		var err error
		if !o.Status.Good() {
			err = fmt.Errorf("whoami at %s: %s: %s", p.HomeserverURL, o.Status.Code, o.Status.Message)
		}
		c.report(err, "sender "+p.Name, fmt.Sprintf("%s at %s (whoami)", user, p.HomeserverURL))
	}
}

// effectiveConfig is the configuration the command's flags, environment
// and file add up to, validated: what a worker started with them uses.
func effectiveConfig(cmd *cli.Command) (config.Config, error) {
	lc, _ := fileConfig(cmd)
	c := lc.cfg.WithDefaults()
	// --redis or MXINVITE_REDIS replace the file's whole redis section.
	if !lc.fromFile["redis"] {
		c.Redis = config.Redis{URL: cmd.String("redis"), TLSCAFile: c.Redis.TLSCAFile}
	}
	if hasFlag(cmd, "redis-ca-file") {
		c.Redis.TLSCAFile = cmd.String("redis-ca-file")
	}
	c.Prefix, c.Queue = cmd.String("prefix"), cmd.String("queue")
	c.Log = config.Log{Level: cmd.String("log-level"), Format: cmd.String("log-format")}
	policy, err := policyFromFlags(cmd)
	if err != nil {
		return c, err
	}
	w := &c.Worker
	w.Concurrency, w.RetryWaits, w.Timeouts, w.MaxRetries = cmd.Int("concurrency"), policy.Waits, policy.Timeouts, &policy.MaxRetries
	w.MaxRateLimitWait, w.ShutdownTimeout = cmd.Duration("max-rate-limit-wait"), cmd.Duration("shutdown-timeout")
	w.FinalOn5xx, w.NoTxnID, w.Scheduler = cmd.Bool("final-on-5xx"), cmd.Bool("no-txn-id"), cmd.Bool("scheduler")
	w.Breaker = nil // not shown while the worker has no --breaker
	if hasFlag(cmd, "breaker") {
		w.Breaker = ptrTo(cmd.Int("breaker"))
	}
	senders, err := resolveSenders(cmd)
	if err != nil {
		return c, err
	}
	c.Senders = c.Senders[:0]
	for _, s := range senders {
		c.Senders = append(c.Senders, s.Sender)
	}
	if err := c.Validate(); err != nil {
		return c, usageErr("the configuration with flags and environment applied: %v", err)
	}
	return c, nil
}

func ptrTo[T any](v T) *T { return &v }
