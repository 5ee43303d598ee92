package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/mxinvite/mxinvite/internal/simulator"
)

// startWorkers starts n `mxinvite worker --until-idle` processes against
// the simulator, with the default key prefix and queue (where
// enqueueInvites puts the invites when given "" for both) and the default
// logging (info, JSON to a file), as shipped.
func (e *env) startWorkers(ctx context.Context, name string, n, concurrency int, sim *simServer, limit time.Duration) ([]*child, error) {
	env := []string{
		"MXINVITE_ACCESS_TOKEN=" + simulator.DefaultAccessToken,
		"MXINVITE_ID_ACCESS_TOKEN=" + simulator.DefaultIDAccessToken,
	}
	var kids []*child
	for i := range n {
		c, err := e.startChild(ctx, fmt.Sprintf("%s-worker%d", name, i), limit, env,
			"worker", "--redis", e.redisURL(), "--homeserver", sim.url, "--id-server", sim.host,
			"--identity-scheme", "http", "--concurrency", strconv.Itoa(concurrency), "--until-idle",
			"--log-level", workerLogLevel(), "--log-format", "json")
		if err != nil {
			for _, k := range kids {
				k.cancel() // kills it; wait reaps it
				k.wait()
			}
			return nil, err
		}
		kids = append(kids, c)
	}
	return kids, nil
}

// workerLogLevel is info, or debug with MXINVITE_BENCH_LOG set (the
// children's logs are then kept there).
func workerLogLevel() string {
	if os.Getenv("MXINVITE_BENCH_LOG") != "" {
		return "debug"
	}
	return "info"
}

// waitAll waits for every child and returns their exits, and the first
// failure.
func waitAll(kids []*child) ([]exit, error) {
	exits := make([]exit, len(kids))
	var firstErr error
	for i, k := range kids {
		exits[i] = k.wait()
		if exits[i].err != nil && firstErr == nil {
			firstErr = exits[i].err
		}
	}
	return exits, firstErr
}
