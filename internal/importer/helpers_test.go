package importer

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/testkit"
)

const testRoom = "!room:test"

// testEnv is one test's Redis, key prefix, queue and producer.
type testEnv struct {
	t      testing.TB
	redis  *redistest.Server
	rdb    *redis.Client
	prefix string
	queue  string
	prod   *producer.Producer
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	r := redistest.Start(t)
	e := &testEnv{t: t, redis: r, rdb: r.Client(t), prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q")}
	e.prod = producer.New(rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}), e.queue)
	return e
}

// opts returns import options for campaign "spring" into testRoom.
func (e *testEnv) opts() Options {
	return Options{Campaign: "spring", RoomID: testRoom, Producer: e.prod}
}

// run imports src and returns the stats and the rejects file's content.
func (e *testEnv) run(opts Options, src io.Reader) (Stats, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var rejects bytes.Buffer
	st, err := Run(ctx, opts, src, &rejects, nil)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return st, rejects.String()
}

// runFile imports a file of testdata/lists.
func (e *testEnv) runFile(opts Options, name string) (Stats, string) {
	e.t.Helper()
	f, err := os.Open(listPath(name))
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	return e.run(opts, f)
}

func listPath(name string) string { return filepath.Join("..", "..", "testdata", "lists", name) }

// addresses returns the addresses of the campaign's records, sorted.
func (e *testEnv) addresses(campaign string) []string {
	e.t.Helper()
	var out []string
	err := e.prod.Store().Results(context.Background(), campaign, func(r record.Result) error {
		out = append(out, r.Address)
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// queueInfo returns the asynq queue's counts (zero when it does not exist).
func (e *testEnv) queueInfo() asynq.QueueInfo {
	e.t.Helper()
	return testkit.QueueInfo(asynq.NewInspectorFromRedisClient(e.rdb), e.queue)
}

// snapshot returns every key of the test's prefix and queue with its DUMP,
// plus whether the queue is registered with asynq: what a dry run must not
// change.
func (e *testEnv) snapshot() map[string]string {
	e.t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, pattern := range []string{e.prefix + ":*", "asynq:{" + e.queue + "}*", "asynq:{" + e.queue + ":*"} {
		iter := e.rdb.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			dump, err := e.rdb.Dump(ctx, iter.Val()).Result()
			if err != nil {
				e.t.Fatalf("DUMP %s: %v", iter.Val(), err)
			}
			out[iter.Val()] = dump
		}
		if err := iter.Err(); err != nil {
			e.t.Fatal(err)
		}
	}
	for _, q := range testkit.QueuesUnder(asynq.NewInspectorFromRedisClient(e.rdb), e.queue) {
		out["asynq:queues∋"+q] = "1"
	}
	return out
}

// wantStats compares the counters that matter.
func wantStats(t testing.TB, got Stats, read, valid, enqueued, dups, queued, done, rejected int64) {
	t.Helper()
	if got.Read != read || got.Valid != valid || got.Enqueued != enqueued || got.Duplicates != dups ||
		got.AlreadyQueued != queued || got.AlreadyDone != done || got.Rejected != rejected {
		t.Fatalf("stats %+v\nwant read %d valid %d enqueued %d duplicates %d already_queued %d already_done %d rejected %d",
			got, read, valid, enqueued, dups, queued, done, rejected)
	}
}

// TestMain silences go-redis's own log of dial retries: the test that
// talks to an unreachable Redis checks the error Run returns instead.
func TestMain(m *testing.M) {
	redis.SetLogger(silentLogger{})
	os.Exit(m.Run())
}

type silentLogger struct{}

func (silentLogger) Printf(context.Context, string, ...any) {}
