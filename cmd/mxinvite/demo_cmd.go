package main

import (
	"context"
	"os/signal"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/demo"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run mxinvite end to end on this machine: embedded Redis, simulated homeserver, 1,000 invites",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "redis", Sources: env("demo-redis"),
				Usage: "use this Redis (keys under a fresh mxdemo-* prefix, deleted afterwards) instead of an embedded one"},
			&cli.StringFlag{Name: "dir", Value: demo.DefaultDir,
				Usage: "keep the generated list, its rejects and the report here"},
			&cli.IntFlag{Name: "invites", Value: 1000, Usage: "rows in the generated list"},
			&cli.Float64Flag{Name: "rate", Value: 100, Usage: "the simulator's rate limit, invites per second"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "give up after this long"},
		},
		OnUsageError: onUsageError,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			_, err := demo.Run(ctx, demo.Options{
				RedisURL: cmd.String("redis"), Dir: cmd.String("dir"), Invites: cmd.Int("invites"), Rate: cmd.Float64("rate"),
				Timeout: cmd.Duration("timeout"), Out: cmd.Root().Writer, Err: cmd.Root().ErrWriter,
			})
			return err
		},
	}
}
