package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

func simulateCommand() *cli.Command {
	return &cli.Command{
		Name:  "simulate",
		Usage: "run the simulated homeserver + identity server (Synapse's rules) on a loopback address",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8008", Usage: "loopback address to listen on"},
			&cli.Float64Flag{Name: "rate", Usage: "invites per second allowed per sender (0: no limit)"},
			&cli.IntFlag{Name: "burst", Value: 10, Usage: "rate-limit burst"},
			&cli.StringFlag{Name: "rate-style", Value: string(simulator.StyleSynapse), Usage: "synapse, dendrite or bare"},
			&cli.DurationFlag{Name: "latency", Usage: "fixed latency per request"},
			&cli.DurationFlag{Name: "jitter", Usage: "extra random latency, up to this"},
			&cli.Float64Flag{Name: "error-rate", Usage: "share of invites answered 500 (0..1)"},
			&cli.BoolFlag{Name: "no-txn-put", Usage: "answer PUT /invite/{txnId} with 404 M_UNRECOGNIZED, as non-Synapse servers do"},
		},
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			cfg := simulator.Config{
				DisableTxnPUT: cmd.Bool("no-txn-put"),
				RateLimit: simulator.RateLimit{PerSecond: cmd.Float64("rate"), Burst: cmd.Int("burst"),
					Style: simulator.RateLimitStyle(cmd.String("rate-style"))},
				Faults: simulator.Faults{Latency: cmd.Duration("latency"), Jitter: cmd.Duration("jitter"),
					ErrorRate: cmd.Float64("error-rate")},
			}
			if cfg.RateLimit.PerSecond == 0 {
				cfg.RateLimit.Burst = 0 // no limit
			}
			sim, err := simulator.New(cfg)
			if err != nil {
				return usageErr("%v", err)
			}
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			fmt.Fprintf(cmd.Root().Writer, "simulator on http://%s — access token %q, id server token %q, room %s (%s); stats at /_sim/stats\n",
				cmd.String("listen"), simulator.DefaultAccessToken, simulator.DefaultIDAccessToken,
				simulator.DefaultRoomID, simulator.DefaultRoomAlias)
			if err := sim.ListenAndServe(ctx, cmd.String("listen")); err != nil {
				return usageErr("--listen %s: %v", cmd.String("listen"), err)
			}
			return nil
		},
	}
}
