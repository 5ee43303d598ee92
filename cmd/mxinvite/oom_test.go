package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
)

// TestEnqueueStopsCleanlyWhenRedisIsOutOfMemory fills a Redis whose
// maxmemory policy evicts nothing: the import stops with a clear error and
// a summary that is exactly what Redis holds; once memory is freed, the same
// import goes on from there.
func TestEnqueueStopsCleanlyWhenRedisIsOutOfMemory(t *testing.T) {
	r := redistest.StartOwned(t, redistest.Options{Args: []string{"--maxmemory-policy", "noeviction"}})
	e := &cliEnv{t: t, rdb: r.Client(t), redis: r.URL(), dir: t.TempDir(),
		prefix: redistest.Unique(t, "mx"), queue: redistest.Unique(t, "q")}
	e.sim, e.ts = simtest.NewServer(t, simulator.Config{})
	ctx := context.Background()
	const rows = 20000
	var list strings.Builder
	for i := range rows {
		fmt.Fprintf(&list, "user%d@example.org\n", i)
	}
	path := e.file("list.txt", list.String())
	used := usedMemory(t, e)
	// Room for roughly a thousand invites of the twenty thousand.
	if err := e.rdb.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used+2<<20, 10)).Err(); err != nil {
		t.Fatal(err)
	}
	args := join([]string{"enqueue", "--json", "--no-preflight"}, e.redisArgs(),
		[]string{"--room", simulator.DefaultRoomID, "--campaign", "oom", "--file", path})
	res := mxinvite(t, args...)
	if res.code != exitFailure || !strings.Contains(res.stderr, "Redis is out of memory") ||
		!strings.Contains(res.stderr, "raise maxmemory") || strings.Count(strings.TrimSpace(res.stderr), "\n") != 0 {
		t.Fatalf("exit %d, stderr %q; want exit 1 and one line saying Redis is out of memory and what to do", res.code, res.stderr)
	}
	t.Logf("stdout: %sstderr: %s", res.stdout, res.stderr)
	var sum struct {
		Enqueued    int `json:"enqueued"`
		NotEnqueued int `json:"registered_not_enqueued"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &sum); err != nil || sum.Enqueued == 0 || sum.Enqueued >= rows {
		t.Fatalf("summary %q (%v); want some but not all rows enqueued", res.stdout, err)
	}
	// The summary is what Redis holds: a task per enqueued invite, a record
	// (queued) per registered one.
	records, err := e.rdb.LLen(ctx, e.prefix+":campaign:oom:order").Result() // the campaign's index (rdb/index.go)
	if err != nil {
		t.Fatal(err)
	}
	c, err := rdb.New(e.rdb, rdb.Options{Prefix: e.prefix}).Counts(ctx, "oom")
	if err != nil {
		t.Fatal(err)
	}
	counted := c.InStates() // every record is in one state
	if tasks := e.queueSize(); tasks != sum.Enqueued || int(records) != sum.Enqueued+sum.NotEnqueued || counted != int(records) {
		t.Fatalf("summary: enqueued %d, registered not enqueued %d; Redis: %d tasks, %d records, counter %d",
			sum.Enqueued, sum.NotEnqueued, tasks, records, counted)
	}

	// Memory freed: the same import carries on and the counts add up.
	if err := e.rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	res = mxinvite(t, args...)
	var again struct {
		Enqueued      int `json:"enqueued"`
		AlreadyQueued int `json:"already_queued"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &again); err != nil || res.code != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q (%v)", res.code, res.stdout, res.stderr, err)
	}
	if again.Enqueued != rows-sum.Enqueued || again.AlreadyQueued != sum.Enqueued || e.queueSize() != rows {
		t.Fatalf("second run: enqueued %d, already queued %d, queue %d; want %d, %d, %d",
			again.Enqueued, again.AlreadyQueued, e.queueSize(), rows-sum.Enqueued, sum.Enqueued, rows)
	}
}

// usedMemory is Redis's used_memory, in bytes.
func usedMemory(t *testing.T, e *cliEnv) int64 {
	t.Helper()
	info, err := e.rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no used_memory in INFO memory")
	return 0
}
