package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v3"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

func simulateCommand() *cli.Command {
	return &cli.Command{
		Name:  "simulate",
		Usage: "run the simulated homeserver + identity server (Synapse's rules) on a loopback address",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8008", Usage: "loopback address to listen on (port 0: any free port)"},
			&cli.Float64Flag{Name: "rate", Usage: "invites per second allowed per sender (0: no limit; Synapse's default scaled 1000x: --rate 2.5 --burst 5)"},
			&cli.IntFlag{Name: "burst", Value: 10, Usage: "rate-limit burst"},
			&cli.StringFlag{Name: "rate-style", Value: string(simulator.StyleSynapse), Usage: "synapse, dendrite or bare"},
			&cli.DurationFlag{Name: "rate-pause", Usage: "pause before each 429 (Synapse: 500ms)"},
			&cli.DurationFlag{Name: "latency", Usage: "fixed latency per request"},
			&cli.DurationFlag{Name: "jitter", Usage: "extra random latency, up to this"},
			&cli.Float64Flag{Name: "error-rate", Usage: "share of invites answered 500 (0..1)"},
			&cli.BoolFlag{Name: "no-txn-put", Usage: "answer PUT /invite/{txnId} with 404 M_UNRECOGNIZED, as non-Synapse servers do"},
			&cli.BoolFlag{Name: "v12-room", Usage: "also serve a room version 12 room (ID without :server) and print it as the room to use"},
			&cli.BoolFlag{Name: "require-terms", Usage: "the identity server has terms that must be accepted before it works"},
			&cli.StringFlag{Name: "store-limit", Usage: "identity server's per-sender email limit BURST/INTERVAL, answered as Synapse's 500 (Sydent: 5/300s)"},
			&cli.StringFlag{Name: "no-3pid", Usage: "be a server without 3PID invites: conduit (404) or tuwunel (403)"},
			&cli.BoolFlag{Name: "admin", Usage: "make the sender a server admin (Synapse's override_ratelimit admin API)"},
			&cli.StringSliceFlag{Name: "bind-later", Usage: "ADDRESS=@user:server/DURATION: that long after the start the person registers, " +
				"binds ADDRESS (its 3PID invites become the account's) and joins the rooms it is invited to; a demo of mxinvite track (repeatable)"},
			&cli.StringSliceFlag{Name: "bind", Usage: "ADDRESS=@user:server: the identity server knows ADDRESS as bound to that account, so a 3PID invite of it invites the account (repeatable)"},
			&cli.Float64Flag{Name: "invite-limits", Usage: "Synapse's rc_invites defaults (per room 0.3/s burst 10, per invitee 0.003/s burst 5, per issuer 0.3/s burst 10) sped up SCALE times (0: off)"},
			&cli.StringSliceFlag{Name: "refuse", Usage: "glob PATTERN of addresses the identity server refuses to store invites for (Synapse's 500, no email; repeatable)"},
			&cli.BoolFlag{Name: "no-3pid-lookup", Usage: "Synapse's enable_3pid_lookup: false: every 3PID invite gets 403 M_UNKNOWN"},
			&cli.StringFlag{Name: "token-dir", Usage: "directory for the token files and a sample address list (default: a temporary one, removed at exit)"},
		},
		OnUsageError: onUsageError,
		Action:       runSimulate,
	}
}

func runSimulate(ctx context.Context, cmd *cli.Command) error {
	cfg, err := simulateConfig(cmd)
	if err != nil {
		return err
	}
	sim, err := simulator.New(cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	ln, err := simulator.Listen(cmd.String("listen"))
	if err != nil {
		return usageErr("--listen %s: %v", cmd.String("listen"), err)
	}
	files, err := writeSimFiles(cmd.String("token-dir"))
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer files.cleanup()
	room := cfg.Rooms[0]
	if cmd.Bool("v12-room") {
		room = cfg.Rooms[1]
	}
	printSimGuide(cmd.Root().Writer, simGuide{
		addr: ln.Addr().String(), files: files, room: room, cfg: cfg, redis: guideRedis(os.Getenv),
	})
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := sim.Serve(ctx, ln); err != nil {
		return fail("simulate: %v", err)
	}
	return nil
}

// simulateConfig builds the simulator's configuration from the flags.
func simulateConfig(cmd *cli.Command) (simulator.Config, error) {
	user := simulator.DefaultUser()
	user.Admin = cmd.Bool("admin")
	cfg := simulator.Config{
		Users:         []simulator.User{user},
		Rooms:         []simulator.Room{simulator.DefaultRoom()},
		DisableTxnPUT: cmd.Bool("no-txn-put"),
		RateLimit: simulator.RateLimit{PerSecond: cmd.Float64("rate"), Burst: cmd.Int("burst"),
			Style: simulator.RateLimitStyle(cmd.String("rate-style")), Pause: cmd.Duration("rate-pause")},
		Faults: simulator.Faults{Latency: cmd.Duration("latency"), Jitter: cmd.Duration("jitter"),
			ErrorRate: cmd.Float64("error-rate")},
		RequireTerms:           cmd.Bool("require-terms"),
		NoThreePID:             simulator.NoThreePIDStyle(cmd.String("no-3pid")),
		ThreePIDLookupDisabled: cmd.Bool("no-3pid-lookup"),
	}
	if cfg.RateLimit.PerSecond == 0 {
		cfg.RateLimit.Burst = 0 // no limit
	}
	if cmd.Bool("v12-room") {
		cfg.Rooms = append(cfg.Rooms, simulator.DefaultV12Room())
	}
	switch cfg.NoThreePID {
	case simulator.ThreePIDSupported, simulator.NoThreePIDConduit, simulator.NoThreePIDTuwunel:
	default:
		return cfg, usageErr("--no-3pid %q: want conduit or tuwunel", cmd.String("no-3pid"))
	}
	if s := cmd.String("store-limit"); s != "" {
		sl, err := parseStoreLimit(s)
		if err != nil {
			return cfg, err
		}
		cfg.StoreLimit = sl
	}
	bound := map[string]string{}
	for _, s := range cmd.StringSlice("bind") {
		b, err := parseBinding(s)
		if err != nil {
			return cfg, err
		}
		if first, dup := bound[b.Address]; dup {
			return cfg, usageErr("--bind %q: %s is bound already (--bind %q)", s, b.Address, first)
		}
		bound[b.Address] = s
		cfg.Bindings = append(cfg.Bindings, b)
	}
	for _, s := range cmd.StringSlice("bind-later") {
		spec, after, ok := strings.Cut(s, "/")
		d, err := time.ParseDuration(after)
		if !ok || err != nil || d <= 0 {
			return cfg, usageErr("--bind-later %q: want ADDRESS=@user:server/DURATION, e.g. new@example.org=@new:sim.local/30s", s)
		}
		b, err := parseBinding(spec)
		if err != nil {
			return cfg, usageErr("--bind-later %q: want ADDRESS=@user:server/DURATION", s)
		}
		if first, dup := bound[b.Address]; dup {
			return cfg, usageErr("--bind-later %q: %s is bound already (%q)", s, b.Address, first)
		}
		bound[b.Address] = s
		cfg.LaterBinds = append(cfg.LaterBinds, simulator.LaterBind{Binding: b, After: d, Join: true})
	}
	scale := cmd.Float64("invite-limits")
	if scale < 0 || math.IsNaN(scale) || math.IsInf(scale, 0) {
		return cfg, usageErr("--invite-limits %v: want a scale >= 0 (1000: Synapse's defaults sped up 1000 times)", scale)
	}
	cfg.InviteLimits = simulator.SynapseDefaultInviteLimits(scale)
	for _, p := range cmd.StringSlice("refuse") {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return cfg, usageErr("--refuse %q: not a glob pattern (e.g. '*@spam.example')", p)
		}
		cfg.RefusedAddresses = append(cfg.RefusedAddresses, p)
	}
	return cfg, nil
}

// parseBinding reads --bind ADDRESS=@user:server; an address with an @
// is an email address, any other a phone number (msisdn).
func parseBinding(s string) (simulator.Binding, error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return simulator.Binding{}, usageErr("--bind %q: want ADDRESS=@user:server", s)
	}
	b := simulator.Binding{Medium: "msisdn", Address: strings.TrimSpace(s[:i]), UserID: strings.TrimSpace(s[i+1:])}
	if strings.Contains(b.Address, "@") {
		b.Medium = "email"
	}
	one := simulator.Config{Bindings: []simulator.Binding{b}}
	if err := one.Validate(); err != nil {
		return b, usageErr("--bind %q: want ADDRESS=@user:server", s)
	}
	// The canonical address (lowercased email), as the guide shows it
	// and duplicates are found.
	return one.WithDefaults().Bindings[0], nil
}

// parseStoreLimit reads --store-limit BURST/INTERVAL, e.g. 5/300s.
func parseStoreLimit(s string) (simulator.StoreLimit, error) {
	b, i, ok := strings.Cut(s, "/")
	burst, errB := strconv.Atoi(strings.TrimSpace(b))
	interval, errI := time.ParseDuration(strings.TrimSpace(i))
	if !ok || errB != nil || errI != nil || burst < 1 || interval <= 0 {
		return simulator.StoreLimit{}, usageErr("--store-limit %q: want BURST/INTERVAL with BURST >= 1, e.g. 5/300s", s)
	}
	return simulator.StoreLimit{Burst: burst, Interval: interval}, nil
}

// describeModes names the non-default behaviours, for the guide.
func describeModes(cfg simulator.Config) []string {
	var modes []string
	if rl := cfg.RateLimit; rl.Burst > 0 {
		modes = append(modes, fmt.Sprintf("invite rate limit burst %d then %g/s (%s)", rl.Burst, rl.PerSecond, rl.Style))
	}
	if sl := cfg.StoreLimit; sl.Burst > 0 {
		modes = append(modes, fmt.Sprintf("identity server emails %d per sender, then one per %v (else Synapse's 500)", sl.Burst, sl.Interval))
	}
	if cfg.NoThreePID != "" {
		modes = append(modes, fmt.Sprintf("no 3PID invites (%s)", cfg.NoThreePID))
	}
	if len(cfg.Users) > 0 && cfg.Users[0].Admin {
		modes = append(modes, "the sender is a server admin")
	}
	if cfg.DisableTxnPUT {
		modes = append(modes, "no PUT /invite/{txnId}")
	}
	if n := len(cfg.Bindings); n > 0 {
		var shown []string
		for _, b := range cfg.Bindings[:min(n, 3)] {
			shown = append(shown, b.Address+" -> "+b.UserID)
		}
		if n > 3 {
			shown = append(shown, fmt.Sprintf("and %d more", n-3))
		}
		modes = append(modes, fmt.Sprintf("%d bound addresses, invited as their accounts (no email): %s", n, strings.Join(shown, ", ")))
	}
	if n := len(cfg.LaterBinds); n > 0 {
		var shown []string
		for _, b := range cfg.LaterBinds[:min(n, 3)] {
			shown = append(shown, fmt.Sprintf("%s -> %s after %v", b.Address, b.UserID, b.After))
		}
		if n > 3 {
			shown = append(shown, fmt.Sprintf("and %d more", n-3))
		}
		modes = append(modes, fmt.Sprintf("%d people register later, bind their address and join (mxinvite track shows it): %s", n, strings.Join(shown, ", ")))
	}
	if il := cfg.InviteLimits; il.PerRoom.Burst > 0 || il.PerUser.Burst > 0 || il.PerIssuer.Burst > 0 {
		modes = append(modes, fmt.Sprintf("rc_invites per room %g/s burst %d, per invitee %g/s burst %d, per issuer %g/s burst %d",
			il.PerRoom.PerSecond, il.PerRoom.Burst, il.PerUser.PerSecond, il.PerUser.Burst, il.PerIssuer.PerSecond, il.PerIssuer.Burst))
	}
	if len(cfg.RefusedAddresses) > 0 {
		modes = append(modes, "identity server refuses "+strings.Join(cfg.RefusedAddresses, " ")+" (Synapse's 500, no email)")
	}
	if cfg.ThreePIDLookupDisabled {
		modes = append(modes, "enable_3pid_lookup: false (every 3PID invite 403 M_UNKNOWN)")
	}
	if cfg.Faults.ErrorRate > 0 || cfg.Faults.Latency > 0 || cfg.Faults.Jitter > 0 {
		modes = append(modes, fmt.Sprintf("faults: %g of invites 500, latency %v + jitter %v", cfg.Faults.ErrorRate, cfg.Faults.Latency, cfg.Faults.Jitter))
	}
	return modes
}
