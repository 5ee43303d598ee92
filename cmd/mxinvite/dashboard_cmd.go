package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/dashboard"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/webguard"
)

func dashboardCommand() *cli.Command {
	flags := append(redisFlags(), logFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "http", Value: "127.0.0.1:8080", Sources: env("http"),
			Usage: "address to serve the dashboard on; a non-loopback one needs --dashboard-token-file"},
	)
	flags = append(flags, dashboardFlags()...)
	return &cli.Command{
		Name:         "dashboard",
		Usage:        "serve the campaign dashboard (progress, timeline, failures, resume/cancel/retry) in the browser",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runDashboard,
	}
}

// dashboardFlags are shared with `worker --http ADDR`: the token and the
// public address protect the whole listener there (/metrics, asynqmon, the
// dashboard), not only the dashboard.
func dashboardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dashboard-token-file", Sources: env("dashboard-token-file"),
			Usage: fmt.Sprintf("file holding the token every page of --http asks for but /healthz and /readyz "+
				"(dashboard, asynqmon, /metrics: Prometheus sends it as a bearer token); one line, at least %d characters", webguard.MinTokenLen)},
		&cli.StringFlag{Name: "public-url", Sources: env("public-url"),
			Usage: "the URL people open, e.g. https://mxinvite.example.org/ behind a TLS proxy: its host is served, https makes the login cookie Secure"},
		&cli.StringFlag{Name: "allowed-hosts", Sources: env("allowed-hosts"),
			Usage: "further host names --http answers to, comma-separated (e.g. the name Prometheus scrapes); others are refused (DNS rebinding)"},
		&cli.StringFlag{Name: "trusted-proxies", Sources: env("trusted-proxies"),
			Usage: "IPs or CIDRs of reverse proxies whose X-Forwarded-Proto is believed (https makes the login cookie Secure)"},
		&cli.DurationFlag{Name: "dashboard-refresh", Value: 2 * time.Second, Sources: env("dashboard-refresh"),
			Usage: "how often open pages refresh their numbers"},
	}
}

// newGuard builds the lock of an --http listener from the flags: the token
// file, whenever one is given, and the public address. Each flag is
// checked on its own, so that an error names it.
func newGuard(cmd *cli.Command) (*webguard.Guard, error) {
	var o webguard.Options
	if cmd.String("dashboard-token-file") != "" {
		t, err := readToken(cmd, "dashboard-token-file", "")
		if err != nil {
			return nil, err
		}
		if err := (webguard.Options{Token: t}).Validate(); err != nil {
			return nil, usageErr("--dashboard-token-file: %v", err)
		}
		o.Token = t
	}
	if o.PublicURL = cmd.String("public-url"); o.PublicURL != "" {
		if err := (webguard.Options{PublicURL: o.PublicURL}).Validate(); err != nil {
			return nil, usageErr("--public-url: %v", err)
		}
	}
	o.AllowedHosts = webguard.ParseHosts(cmd.String("allowed-hosts"))
	if err := (webguard.Options{AllowedHosts: o.AllowedHosts}).Validate(); err != nil {
		return nil, usageErr("--allowed-hosts: %v", err)
	}
	proxies, err := webguard.ParseTrustedProxies(cmd.String("trusted-proxies"))
	if err != nil {
		return nil, usageErr("--trusted-proxies: %v", err)
	}
	o.TrustedProxies = proxies
	g, err := webguard.New(o)
	if err != nil {
		return nil, usageErr("--dashboard-token-file, --public-url: %v", err)
	}
	return g, nil
}

// newDashboard builds the dashboard handler behind guard.
func newDashboard(cmd *cli.Command, store *rdb.Client, guard *webguard.Guard, log *zerolog.Logger) (http.Handler, error) {
	if cmd.Duration("dashboard-refresh") < 100*time.Millisecond {
		return nil, usageErr("--dashboard-refresh %s: must be at least 100ms", cmd.Duration("dashboard-refresh"))
	}
	h, err := dashboard.New(dashboard.Options{
		Source:  dashboard.NewStoreSource(store, cmd.String("queue")),
		Guard:   guard,
		Refresh: cmd.Duration("dashboard-refresh"),
		Logger:  log,
	})
	if err != nil {
		return nil, fail("dashboard: %v", err)
	}
	return h, nil
}

func runDashboard(ctx context.Context, cmd *cli.Command) error {
	log, err := newLogger(cmd, cmd.Root().ErrWriter)
	if err != nil {
		return err
	}
	addr := cmd.String("http")
	guard, err := newGuard(cmd)
	if err != nil {
		return err
	}
	if err := webguard.CheckListen(addr, guard.HasToken()); err != nil {
		return usageErr("--http: %v", err) // before Redis: the address is the likelier mistake
	}
	_, store, err := connectStore(ctx, cmd)
	if err != nil {
		return err
	}
	defer store.Close()
	h, err := newDashboard(cmd, store, guard, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return usageErr("--http %s: %v", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	fmt.Fprintf(cmd.Root().Writer, "dashboard on http://%s/\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fail("dashboard: %v", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fail("dashboard: %v", err)
	}
	return nil
}
