package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redisserver"
)

// buildTimeout bounds `go build` of the mxinvite binary.
const buildTimeout = 90 * time.Second

// env is what every scenario shares: a private redis-server, a client to
// it, a scratch directory and the mxinvite binary for the child processes.
type env struct {
	dir   string
	redis *redisserver.Server
	rdb   *redis.Client

	// bin is the built mxinvite binary; binErr says why there is none.
	bin    string
	binErr error

	// borrowed: the scratch directory and binary belong to another env.
	borrowed bool

	// profiles collects the run's profile summaries (profile.go); shared
	// with siblings.
	profiles *profileLog
}

// sibling is another env with a redis-server of its own, sharing e's
// scratch directory and binary: for scenarios that run alongside others.
func (e *env) sibling(name string) (*env, error) {
	redisDir := filepath.Join(e.dir, "redis-"+name)
	if err := os.Mkdir(redisDir, 0o755); err != nil {
		return nil, err
	}
	srv, err := redisserver.Start(redisserver.Options{Dir: redisDir})
	if err != nil {
		return nil, err
	}
	return &env{dir: e.dir, redis: srv, rdb: redis.NewClient(&redis.Options{Addr: srv.Addr}),
		bin: e.bin, binErr: e.binErr, borrowed: true, profiles: e.profiles}, nil
}

// newEnv makes the scratch directory, starts redis-server and builds the
// binary. A failed build is not fatal: the rows that need it say why.
func newEnv(ctx context.Context) (*env, error) {
	dir, err := os.MkdirTemp("", "mxinvite-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, profiles: &profileLog{}}
	redisDir := filepath.Join(dir, "redis")
	if err := os.Mkdir(redisDir, 0o755); err != nil {
		e.close()
		return nil, err
	}
	e.redis, err = redisserver.Start(redisserver.Options{Dir: redisDir})
	if err != nil {
		e.close()
		return nil, err
	}
	e.rdb = redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	fmt.Printf("redis-server on %s, scratch directory %s\n", e.redis.Addr, dir)
	e.bin, e.binErr = buildBinary(ctx, dir)
	return e, nil
}

// buildBinary builds cmd/mxinvite into dir. The bench runs from the module
// (go run ./internal/bench), so the package path resolves.
func buildBinary(ctx context.Context, dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	out := filepath.Join(dir, "mxinvite")
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, "github.com/mxinvite/mxinvite/cmd/mxinvite")
	if combined, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/mxinvite: %v: %s", err, lastLine(string(combined)))
	}
	fmt.Printf("built %s in %s\n", out, time.Since(start).Round(100*time.Millisecond))
	return out, nil
}

// redisOpt is the asynq connection option for the bench's Redis.
func (e *env) redisOpt() asynq.RedisClientOpt { return asynq.RedisClientOpt{Addr: e.redis.Addr} }

// redisURL is the --redis flag of child processes.
func (e *env) redisURL() string { return "redis://" + e.redis.Addr }

// flush empties the bench's own Redis (it is private: nothing else is there).
func (e *env) flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return e.rdb.FlushAll(ctx).Err()
}

// close stops redis-server and removes the scratch directory.
func (e *env) close() {
	if e.rdb != nil {
		_ = e.rdb.Close()
	}
	if e.redis != nil {
		e.redis.Stop()
	}
	if !e.borrowed {
		_ = os.RemoveAll(e.dir)
	}
}
