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

// dashboardFlags are shared with `worker --http ADDR --dashboard`.
func dashboardFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dashboard-token-file", Sources: env("dashboard-token-file"),
			Usage: fmt.Sprintf("file holding the token the dashboard asks for (one line, at least %d characters)", dashboard.MinTokenLen)},
		&cli.DurationFlag{Name: "dashboard-refresh", Value: 2 * time.Second, Sources: env("dashboard-refresh"),
			Usage: "how often open pages refresh their numbers"},
	}
}

// newDashboard builds the dashboard handler for a server on addr, refusing
// a non-loopback addr without a token.
func newDashboard(cmd *cli.Command, store *rdb.Client, addr string, log *zerolog.Logger) (http.Handler, error) {
	var token string
	if cmd.String("dashboard-token-file") != "" {
		t, err := readToken(cmd, "dashboard-token-file", "")
		if err != nil {
			return nil, err
		}
		token = t
	}
	if err := dashboard.CheckListen(addr, token != ""); err != nil {
		return nil, usageErr("--http: %v", err)
	}
	if cmd.Duration("dashboard-refresh") < 100*time.Millisecond {
		return nil, usageErr("--dashboard-refresh %s: must be at least 100ms", cmd.Duration("dashboard-refresh"))
	}
	h, err := dashboard.New(dashboard.Options{
		Source:  dashboard.NewStoreSource(store, cmd.String("queue")),
		Token:   token,
		Refresh: cmd.Duration("dashboard-refresh"),
		Logger:  log,
	})
	if err != nil {
		return nil, usageErr("--dashboard-token-file: %v", err)
	}
	return h, nil
}

func runDashboard(ctx context.Context, cmd *cli.Command) error {
	log, err := newLogger(cmd, cmd.Root().ErrWriter)
	if err != nil {
		return err
	}
	addr := cmd.String("http")
	if err := dashboard.CheckListen(addr, cmd.String("dashboard-token-file") != ""); err != nil {
		return usageErr("--http: %v", err) // before Redis: the address is the likelier mistake
	}
	_, store, err := connectStore(ctx, cmd)
	if err != nil {
		return err
	}
	defer store.Close()
	h, err := newDashboard(cmd, store, addr, log)
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
