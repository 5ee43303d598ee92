package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// cliEnv is a simulator and a Redis for running mxinvite commands, with
// the flags every command needs to reach them.
type cliEnv struct {
	t      *testing.T
	sim    *simulator.Server
	ts     *httptest.Server
	rdb    *redis.Client
	redis  string
	prefix string
	queue  string
	dir    string
}

func newCLIEnv(t *testing.T, cfg simulator.Config) *cliEnv {
	t.Helper()
	r := redistest.Start(t)
	e := &cliEnv{t: t, rdb: r.Client(t), redis: r.URL(), dir: t.TempDir(),
		prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q")}
	e.sim, e.ts = simtest.NewServer(t, cfg)
	return e
}

// redisArgs are the flags of redisFlags.
func (e *cliEnv) redisArgs() []string {
	return []string{"--redis", e.redis, "--prefix", e.prefix, "--queue", e.queue}
}

// profileArgs are the flags of profileFlags for the simulator's default user.
func (e *cliEnv) profileArgs() []string {
	return []string{
		"--homeserver", e.ts.URL, "--access-token-file", e.file("token", simulator.DefaultAccessToken),
		"--id-server", simtest.IDServer(e.ts), "--id-access-token-file", e.file("id-token", simulator.DefaultIDAccessToken),
		"--identity-scheme", "http",
	}
}

// file writes a file in the test's directory and returns its path.
func (e *cliEnv) file(name, content string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// result is what one mxinvite run printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// mxinviteTimeLimit bounds one in-process run of the command line.
const mxinviteTimeLimit = time.Minute

// mxinvite runs the command line in-process within mxinviteTimeLimit.
func mxinvite(t *testing.T, args ...string) result {
	t.Helper()
	return mxinviteWithin(t, mxinviteTimeLimit, args...)
}

// mxinviteWithin runs the command line in-process with a time limit.
// Reaching the limit fails the test: a "worker --until-idle" stopped by it
// shuts down gracefully and exits 0, as it does on SIGTERM, with its work
// not done, which must not read as success.
func mxinviteWithin(t *testing.T, limit time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	var stdout, stderr syncBuffer // a worker's goroutines log at once
	code := run(ctx, append([]string{"mxinvite"}, args...), &stdout, &stderr)
	r := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		t.Fatalf("mxinvite %s: still running after %s (exit %d)\n%s%s", strings.Join(args, " "), limit, code, r.stdout, r.stderr)
	}
	return r
}

// join concatenates flag lists.
func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// keys returns the test's keys in Redis: its prefix and its asynq queue.
func (e *cliEnv) keys() []string {
	e.t.Helper()
	ctx := context.Background()
	var out []string
	for _, pattern := range []string{e.prefix + ":*", "asynq:{" + e.queue + "}*", "asynq:{" + e.queue + ":*"} {
		k, err := e.rdb.Keys(ctx, pattern).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, k...)
	}
	for _, q := range e.queues() {
		out = append(out, "asynq:queues∋"+q)
	}
	return out
}

// queues are the test's asynq queues: its base queue and the lanes under it.
func (e *cliEnv) queues() []string {
	e.t.Helper()
	qs, err := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).QueuesUnder(context.Background(), e.queue)
	if err != nil {
		e.t.Fatal(err)
	}
	return qs
}

// queueSize returns the pending plus scheduled tasks of the test's queues.
func (e *cliEnv) queueSize() int {
	e.t.Helper()
	n := 0
	for _, q := range e.queues() {
		if info, err := asynq.NewInspectorFromRedisClient(e.rdb).GetQueueInfo(q); err == nil {
			n += info.Pending + info.Scheduled
		}
	}
	return n
}

// laneOf is the asynq queue the campaign's invites went to.
func (e *cliEnv) laneOf(campaign string) string {
	e.t.Helper()
	q, err := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).QueueOfCampaign(context.Background(), e.queue, campaign)
	if err != nil {
		e.t.Fatal(err)
	}
	return q
}

// listPath is a file of testdata/lists.
func listPath(name string) string { return filepath.Join("..", "..", "testdata", "lists", name) }
