package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/addrlist"
	"github.com/mxinvite/mxinvite/internal/preflight"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/worker"
)

func preflightCommand() *cli.Command {
	flags := append(redisFlags(), profileFlags()...)
	flags = append(flags, acceptTermsFlag())
	flags = append(flags, listFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "room", Required: true, Usage: roomFlagUsage},
		&cli.StringFlag{Name: "file", Usage: "the address list to be sent, to say how long the sender's rate limit makes it take"},
		&cli.BoolFlag{Name: "json", Usage: "print the checks as one JSON object"},
	)
	return &cli.Command{
		Name: "preflight",
		Usage: "check that invites to a room can work: the token, the room, the sender's membership and " +
			"power level, the identity server and Redis (exit 3 if not)",
		Flags:        flags,
		OnUsageError: onUsageError,
		Action:       runPreflight,
	}
}

func runPreflight(ctx context.Context, cmd *cli.Command) error {
	if _, _, err := roomFlag(cmd, true); err != nil {
		return err
	}
	profile, err := readProfile(cmd)
	if err != nil {
		return err
	}
	var addresses func() int
	if path := cmd.String("file"); path != "" && path != "-" { // stdin: the size stays unknown
		medium, fromList, err := listMedium(cmd)
		if err != nil {
			return err
		}
		if _, err := os.Stat(path); err != nil {
			return usageErr("--file: %v", err)
		}
		encoding, region, err := listText(cmd)
		if err != nil {
			return err
		}
		opts := addrlist.Options{Medium: medium, MediumFromList: fromList, Column: cmd.String("column"), Encoding: encoding, Region: region}
		addresses = func() int { return countAddresses(path, opts) }
	}
	_, conn, rerr := connectRedis(ctx, cmd)
	var pace func() time.Duration
	if rerr == nil {
		defer conn.Close()
		pace = senderPace(ctx, cmd, conn, profile.Name)
	}
	report := checkProfile(ctx, cmd, profile, addresses, pace)
	if rerr != nil {
		report.Checks = append(report.Checks, preflight.Check{Name: "redis", Detail: rerr.Error()})
	} else {
		report.Checks = append(report.Checks, preflight.Check{Name: "redis", OK: true, Detail: redactURL(cmd.String("redis")) + " answers"})
	}
	out := cmd.Root().Writer
	if cmd.Bool("json") {
		err = json.NewEncoder(out).Encode(struct {
			OK bool `json:"ok"`
			preflight.Report
		}{report.OK(), report})
	} else {
		_, err = report.WriteTo(out)
	}
	if err != nil {
		return err
	}
	return preflightErr(report, "")
}

// checkProfile runs the Matrix checks for --room with the sender profile.
// Without a configured identity token, preflight obtains one from the
// sender's account, accepting the identity server's terms only with
// --accept-identity-terms. addresses (may be nil) counts the campaign;
// pace (may be nil) is the pace the sender's gate learnt from the
// homeserver's rate limits in earlier campaigns.
func checkProfile(ctx context.Context, cmd *cli.Command, p worker.Profile, addresses func() int, pace func() time.Duration) preflight.Report {
	client := matrixClient(cmd, p)
	cfg := preflight.Config{
		Client:   client,
		Room:     strings.TrimSpace(cmd.String("room")),
		IDServer: p.IDServer, IDAccessToken: p.IDAccessToken,
		Sender: p.Name, Addresses: addresses, SenderPace: pace,
	}
	if p.IDAccessToken == "" && p.IDServer != "" {
		cfg.IdentityTokens = matrix.NewIdentityTokens(client, matrix.IdentityTokensConfig{AcceptTerms: cmd.Bool("accept-identity-terms")})
	}
	return preflight.Run(ctx, cfg)
}

// matrixClient is the sender's client, for checks and alias lookups.
func matrixClient(cmd *cli.Command, p worker.Profile) *matrix.Client {
	return matrix.NewClient(matrix.ClientConfig{
		HomeserverURL: p.HomeserverURL, AccessToken: p.AccessToken, IdentityScheme: cmd.String("identity-scheme"),
	})
}

// preflightErr is nil for a report without failures, else exit code 3 with
// a one-line summary; suffix says what was not done.
func preflightErr(r preflight.Report, suffix string) error {
	failed := r.Failed()
	if len(failed) == 0 {
		return nil
	}
	msg := fmt.Sprintf("preflight failed: %d of %d checks (first: %s: %s)", len(failed), len(r.Checks), failed[0].Name, failed[0].Detail)
	return &codedError{err: fmt.Errorf("%s%s", msg, suffix), code: exitPreflight}
}

// writeChecks prints a report's checks to w (enqueue: stderr, so that stdout
// keeps its one summary line).
func writeChecks(w io.Writer, r preflight.Report) {
	_, _ = r.WriteTo(w)
}

// senderPace reads, from the sender's gate in Redis, the pace an earlier
// campaign learnt from the homeserver's rate limit (0: none).
func senderPace(ctx context.Context, cmd *cli.Command, conn redis.UniversalClient, sender string) func() time.Duration {
	return func() time.Duration {
		d, err := rdb.New(conn, rdb.Options{Prefix: cmd.String("prefix")}).SenderPace(ctx, sender)
		if err != nil {
			return 0
		}
		return d
	}
}
