package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/matrix"
	"github.com/mxinvite/mxinvite/worker"
)

// The Synapse admin helpers for a sender's rate limit. A refusal of the
// admin API (a token that is not a server admin's, a server that is not
// Synapse) is a usage error, exit 2: nothing was changed.
func ratelimitCommand() *cli.Command {
	flags := func() []cli.Flag {
		return append(profileFlags(),
			&cli.StringFlag{Name: "admin-token-file", Sources: env("admin-token-file"),
				Usage: "file holding a server admin's access token (or set MXINVITE_ADMIN_TOKEN; default: the sender's own token)"})
	}
	sub := func(name, usage string, action func(context.Context, *cli.Command, *rateLimitTarget) error) *cli.Command {
		return &cli.Command{Name: name, Usage: usage, Flags: flags(), OnUsageError: onUsageError,
			Action: func(ctx context.Context, cmd *cli.Command) error {
				t, err := newRateLimitTarget(ctx, cmd)
				if err != nil {
					return err
				}
				return action(ctx, cmd, t)
			}}
	}
	return &cli.Command{
		Name: "ratelimit",
		Usage: "Synapse only, with a server admin's token: show, lift or restore the sender's rate limits " +
			"(exit 2 if the token is not an admin's or the server has no Synapse admin API)",
		Commands: []*cli.Command{
			sub("show", "show the sender's rate-limit override", runRateLimitShow),
			sub("lift", "lift the sender's rate limits (override: messages_per_second 0, burst_count 0)", runRateLimitLift),
			sub("restore", "delete the sender's override: the server's rate limits apply again", runRateLimitRestore),
		},
	}
}

// rateLimitTarget is the sender's user and the client that may administer it.
type rateLimitTarget struct {
	user  matrix.UserID
	admin *matrix.Client
}

// newRateLimitTarget finds the sender's user with whoami on its own token,
// and the admin client (--admin-token-file, else that same token).
func newRateLimitTarget(ctx context.Context, cmd *cli.Command) (*rateLimitTarget, error) {
	p, err := readProfile(cmd)
	if err != nil {
		return nil, err
	}
	sender := matrixClient(cmd, p)
	user, o := sender.WhoAmI(ctx)
	switch {
	case o.Status.Code == matrix.Unauthorised || o.Status.Code == matrix.IncorrectRequest:
		return nil, usageErr("sender %s: whoami with its access token failed: %s", p.Name, o.Status)
	case !o.Status.Good():
		return nil, fail("sender %s: whoami failed: %s", p.Name, o.Status)
	}
	adminToken, err := readToken(cmd, "admin-token-file", "MXINVITE_ADMIN_TOKEN")
	if err != nil {
		return nil, err
	}
	admin := sender
	if adminToken != "" {
		admin = matrixClient(cmd, worker.Profile{HomeserverURL: p.HomeserverURL, AccessToken: adminToken})
	}
	return &rateLimitTarget{user: user, admin: admin}, nil
}

// adminErr explains a refused admin call in one line.
func (t *rateLimitTarget) adminErr(o matrix.Outcome) error {
	switch {
	case o.Status.Code == matrix.ContentAccessError || o.Status.Code == matrix.Unauthorised:
		return usageErr("ratelimit %s: the homeserver refused its admin API (%s): the token is not a server admin's; "+
			"give --admin-token-file with an admin's token", t.user, o.Status)
	case o.ErrCode == matrix.MUnrecognized || o.Status.Code == matrix.NotFound:
		return usageErr("ratelimit %s: the homeserver has no Synapse admin API (%s)", t.user, o.Status)
	}
	return fail("ratelimit %s: %s", t.user, o.Status)
}

func runRateLimitShow(ctx context.Context, cmd *cli.Command, t *rateLimitTarget) error {
	r, found, o := t.admin.OverrideRatelimit(ctx, t.user)
	if !o.Status.Good() {
		return t.adminErr(o)
	}
	out := cmd.Root().Writer
	switch {
	case !found:
		_, err := fmt.Fprintf(out, "%s: no override; the server's rate limits apply (Synapse's code default for 3PID invites: "+
			"burst %d, then one per %d s, unless homeserver.yaml sets rc_third_party_invite)\n",
			t.user, matrix.SynapseDefaultInviteBurst, int(matrix.SynapseDefaultInviteInterval.Seconds()))
		return err
	case r.Unlimited():
		_, err := fmt.Fprintf(out, "%s: not rate-limited (override: messages_per_second 0, burst_count %d)\n", t.user, r.BurstCount)
		return err
	}
	_, err := fmt.Fprintf(out, "%s: override: messages_per_second %d, burst_count %d\n", t.user, r.MessagesPerSecond, r.BurstCount)
	return err
}

func runRateLimitLift(ctx context.Context, cmd *cli.Command, t *rateLimitTarget) error {
	if o := t.admin.SetOverrideRatelimit(ctx, t.user, matrix.RatelimitOverride{}); !o.Status.Good() {
		return t.adminErr(o)
	}
	_, err := fmt.Fprintf(cmd.Root().Writer, "%s: rate limits lifted (override: messages_per_second 0, burst_count 0); "+
		"mxinvite ratelimit restore puts the server's back\n", t.user)
	return err
}

func runRateLimitRestore(ctx context.Context, cmd *cli.Command, t *rateLimitTarget) error {
	if o := t.admin.DeleteOverrideRatelimit(ctx, t.user); !o.Status.Good() {
		return t.adminErr(o)
	}
	_, err := fmt.Fprintf(cmd.Root().Writer, "%s: override removed; the server's rate limits apply again\n", t.user)
	return err
}
