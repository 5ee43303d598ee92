package main

import (
	"context"
	"errors"
	"github.com/mxinvite/mxinvite/internal/observe"
	"net/http"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/dashboard"
	"github.com/mxinvite/mxinvite/internal/metrics"
	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/webguard"
	"github.com/mxinvite/mxinvite/tasks"
	"github.com/mxinvite/mxinvite/worker"
)

// opsFlags turn on the worker's HTTP server (see docs/metrics.md).
func opsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "http", Sources: env("http"),
			Usage: "serve /metrics, /healthz and /readyz on this host:port, e.g. 127.0.0.1:9090; " +
				"any address but loopback needs --dashboard-token-file"},
		&cli.BoolFlag{Name: "asynqmon", Sources: env("asynqmon"),
			Usage: "also serve asynq's web UI at /asynq/ on --http, read-only (it shows invitees' addresses)"},
		&cli.BoolFlag{Name: "asynqmon-write", Sources: env("asynqmon-write"),
			Usage: "let asynqmon pause and resume queues (its task actions stay refused: they would bypass mxinvite's records)"},
		&cli.BoolFlag{Name: "dashboard", Sources: env("dashboard"),
			Usage: "also serve the campaign dashboard at / on --http (see mxinvite dashboard)"},
	}
}

// opsServer is the worker's --http server and what it reads from.
type opsServer struct {
	srv     *ops.Server
	metrics *metrics.Metrics
	senders *ops.SenderStates
	pauses  *ops.SenderPauses
	store   *rdb.Client
	in      *asynq.Inspector
	worker  *worker.Worker // set by start, before the server listens

	stopPolls context.CancelFunc // ends the pauses' poll (start)
	polls     sync.WaitGroup
}

// newOpsServer builds the server the flags ask for; nil without --http.
func newOpsServer(cmd *cli.Command, opt asynq.RedisConnOpt, log *zerolog.Logger, profiles []worker.Profile) (*opsServer, error) {
	addr := cmd.String("http")
	if addr == "" {
		switch {
		case cmd.Bool("asynqmon"):
			return nil, usageErr("--asynqmon needs --http ADDR to serve it on")
		case cmd.Bool("asynqmon-write"):
			return nil, usageErr("--asynqmon-write needs --asynqmon and --http ADDR")
		case cmd.Bool("dashboard"):
			return nil, usageErr("--dashboard needs --http ADDR to serve it on")
		}
		return nil, nil
	}
	if cmd.Bool("asynqmon-write") && !cmd.Bool("asynqmon") {
		return nil, usageErr("--asynqmon-write needs --asynqmon")
	}
	// The token file, when given, locks every path of the listener; without
	// one, the listener stays on loopback.
	guard, err := newGuard(cmd)
	if err != nil {
		return nil, err
	}
	if err := webguard.CheckListen(addr, guard.HasToken()); errors.Is(err, webguard.ErrNeedsToken) {
		return nil, usageErr("--http %s is not a loopback address, and without --dashboard-token-file %s would be open "+
			"to anyone who reaches it: give a token file, or listen on 127.0.0.1", addr, openDoors(cmd))
	}
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	store, err := rdb.Open(opt, rdb.Options{Prefix: cmd.String("prefix")})
	if err != nil {
		return nil, usageErr("--redis: %v", err)
	}
	o := &opsServer{senders: ops.NewSenderStates(names, true), store: store, in: asynq.NewInspectorFromRedisClient(store.Conn())}
	// The base queue and every lane of the configured senders: a bounded
	// set of label values, as the senders are.
	queues := []string{cmd.String("queue")}
	for _, n := range names {
		queues = append(queues, tasks.SenderQueues(cmd.String("queue"), n)...)
	}
	m, err := metrics.New(metrics.Options{Inspector: o.in, Queues: queues, Senders: names,
		Campaigns: ops.StoreCampaigns{Store: store}, Funnels: store.Funnels})
	if err != nil {
		o.close()
		return nil, err
	}
	o.metrics = m
	// Pauses are read from Redis, where anyone may set or end them.
	o.pauses = ops.NewSenderPauses(ops.StorePauses{Store: o.store},
		names, ops.DefaultPausePoll, m.SetSenderPaused, log)
	var root http.Handler
	var open []string
	if cmd.Bool("dashboard") {
		if root, err = newDashboard(cmd, o.store, guard, log); err != nil {
			o.close()
			return nil, err
		}
		open = dashboard.OpenPaths()
	}
	o.srv, err = ops.New(ops.Config{
		Addr:      addr,
		Guard:     guard,
		Root:      root, // the dashboard, on every path the endpoints do not take
		OpenPaths: open,
		Metrics:   m.Handler(),
		Readiness: ops.AllReady(
			ops.Check{Name: "redis", Readiness: ops.RedisPing(o.store)},
			ops.Check{Name: "worker", Readiness: ops.WhenTrue(func() bool { return o.worker.Started() }, "not started")},
			ops.Check{Name: "senders", Readiness: o.senders},
			ops.Check{Name: "pauses", Readiness: o.pauses},
		),
		Logger: log,
	})
	if err != nil {
		o.close()
		return nil, usageErr("--http %q: %v", addr, err)
	}
	if cmd.Bool("asynqmon") {
		if err := o.srv.MountAsynqmon(opt, cmd.Bool("asynqmon-write")); err != nil {
			o.close()
			return nil, usageErr("--asynqmon: %v", err)
		}
	}
	return o, nil
}

// openDoors names what a listener without a token would expose.
func openDoors(cmd *cli.Command) string {
	doors := "/metrics"
	if cmd.Bool("asynqmon") {
		doors += ", asynqmon (invitees' addresses"
		if cmd.Bool("asynqmon-write") {
			doors += ", queue pauses"
		}
		doors += ")"
	}
	if cmd.Bool("dashboard") {
		doors += ", the dashboard (addresses, cancel, retry, resume)"
	}
	return doors
}

// observer is what the worker reports to (nil without --http: the
// worker's default, nothing).
func (o *opsServer) observer() observe.Observer {
	if o == nil {
		return nil
	}
	return observe.All(o.metrics, o.senders)
}

// start serves for w; a nil server does nothing.
func (o *opsServer) start(cmd *cli.Command, w *worker.Worker) error {
	if o == nil {
		return nil
	}
	o.worker = w
	if err := o.srv.Start(); err != nil {
		o.stop()
		return usageErr("--http %s: %v", cmd.String("http"), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.stopPolls = cancel
	o.polls.Add(1)
	go func() {
		defer o.polls.Done()
		o.pauses.Run(ctx)
	}()
	return nil
}

// stop ends the server (after the worker, so that /readyz said "not
// started" while it drained) and closes its Redis connections.
func (o *opsServer) stop() {
	if o == nil {
		return
	}
	if o.stopPolls != nil {
		o.stopPolls()
		o.polls.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = o.srv.Shutdown(ctx)
	o.close()
}

func (o *opsServer) close() {
	_ = errors.Join(o.in.Close(), o.store.Close())
}
