// Package demo runs mxinvite end to end on one machine with nothing but Go:
// an embedded Redis (or a given one), the simulated homeserver with a small
// rate limit and some flakiness, an import of a generated list with a few bad
// rows, a worker, a live progress view and a final report by status code.
package demo

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/simulator"
)

// Options configures the demo. Zero fields take the defaults.
type Options struct {
	// RedisURL is a Redis to use; "" starts an embedded one (miniredis).
	// Keys go under a fresh prefix and queue, so nothing else is touched,
	// and they are deleted when the demo ends.
	RedisURL string
	// Dir is where the demo keeps its files for the operator to look at:
	// the generated list, its rejects and the report. Created if missing;
	// earlier demo files in it are replaced. Default DefaultDir.
	Dir string
	// Invites is the number of rows in the generated list. Default 1,000.
	Invites int
	// Rate is the simulator's rate limit per sender (invites/s). Default 100.
	Rate float64
	// Concurrency is the worker's concurrency. Default 20.
	Concurrency int
	// Out receives the progress view and the report; Err diagnostics.
	Out, Err io.Writer
	// Timeout bounds the whole demo. Default 2 minutes.
	Timeout time.Duration
}

// DefaultDir is the demo's directory, relative to the working directory.
const DefaultDir = "mxinvite-demo"

func (o Options) withDefaults() Options {
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
	if o.Invites == 0 {
		o.Invites = 1000
	}
	if o.Rate == 0 {
		o.Rate = 100
	}
	if o.Concurrency == 0 {
		o.Concurrency = 20
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Err == nil {
		o.Err = os.Stderr
	}
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	return o
}

// env is what the demo runs on.
type env struct {
	store    *rdb.Client
	redisURL string
	prefix   string
	queue    string
	sim      *simulator.Server
	hsURL    string
	idServer string
	dir      string
	stop     []func()
	cleanErr error // from cleaning a given Redis up
}

// close stops what setUp started, in reverse order; a second call does
// nothing.
func (e *env) close() {
	for i := len(e.stop) - 1; i >= 0; i-- {
		e.stop[i]()
	}
	e.stop = nil
}

// setUp starts Redis (unless given), the simulator and a temp directory.
func setUp(ctx context.Context, o Options) (*env, error) {
	e := &env{prefix: fmt.Sprintf("mxdemo-%d", time.Now().UnixNano()), dir: o.Dir}
	e.queue = e.prefix
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, fmt.Errorf("the demo's directory: %w", err)
	}
	e.redisURL = o.RedisURL
	if e.redisURL == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("embedded Redis: %w", err)
		}
		e.stop = append(e.stop, mr.Close)
		e.redisURL = "redis://" + mr.Addr()
	}
	opt, err := asynq.ParseRedisURI(e.redisURL)
	if err != nil {
		e.close()
		return nil, fmt.Errorf("--redis: %w", err)
	}
	if e.store, err = rdb.Open(opt, rdb.Options{Prefix: e.prefix}); err != nil {
		e.close()
		return nil, fmt.Errorf("--redis: %w", err)
	}
	e.stop = append(e.stop, func() { _ = e.store.Close() })
	if err := e.store.Ping(ctx); err != nil {
		e.close()
		return nil, fmt.Errorf("--redis: cannot reach Redis: %w", err)
	}
	if o.RedisURL != "" {
		// Runs before the client closes and after the worker has stopped.
		e.stop = append(e.stop, func() { e.cleanErr = cleanUp(e.store, e.queue) })
	}

	e.sim, err = simulator.New(simConfig(o))
	if err != nil {
		e.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.sim.Serve(sctx, ln); close(done) }()
	e.stop = append(e.stop, func() { e.sim.Close(); cancel(); <-done })
	e.idServer = ln.Addr().String()
	e.hsURL = "http://" + e.idServer
	return e, nil
}

// simConfig is a homeserver with a small rate limit and some flakiness:
// 2 % of invites answered 500, occasional slow answers, and a domain whose
// invitees are banned from the room (403, final).
func simConfig(o Options) simulator.Config {
	cfg := simulator.Config{
		RateLimit: simulator.RateLimit{PerSecond: o.Rate, Burst: 10, Style: simulator.StyleSynapse},
		Faults:    simulator.Faults{Latency: 2 * time.Millisecond, Jitter: 8 * time.Millisecond, ErrorRate: 0.02},
		Rules: []simulator.Rule{
			{Pattern: "*@banned.example", Status: 403, ErrCode: "M_FORBIDDEN", Error: "The invitee is banned from the room"},
		},
		Seed: 42,
	}
	funnelConfig(&cfg, o.Invites)
	return cfg
}

func (e *env) path(name string) string { return filepath.Join(e.dir, name) }
