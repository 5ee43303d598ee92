package worker

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/producer"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/redistest"
	"github.com/mxinvite/mxinvite/internal/simulator"
	"github.com/mxinvite/mxinvite/internal/simulator/simtest"
	"github.com/mxinvite/mxinvite/tasks"
)

// benchInvites is the campaign size of the retention benchmarks:
// MXINVITE_BENCH_INVITES, default def.
func benchInvites(def int) int {
	if n, err := strconv.Atoi(os.Getenv("MXINVITE_BENCH_INVITES")); err == nil && n > 0 {
		return n
	}
	return def
}

func benchInvite(b *testing.B, campaign string, i int) tasks.Invite {
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: simulator.DefaultRoomID, Medium: tasks.MediumEmail,
		Address: fmt.Sprintf("member.%07d@example.org", i), EnqueuedAt: time.Now().UTC()})
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

// BenchmarkRedisMemoryPerInvite measures, with MEMORY USAGE, what each
// structure costs per invite (default 10,000 invites), queued (with asynq's
// task) and finished (Success, through the simulator).
func BenchmarkRedisMemoryPerInvite(b *testing.B) {
	n := benchInvites(10_000)
	for b.Loop() {
		b.StopTimer()
		r := redistest.StartOwned(b, redistest.Options{})
		conn := r.Client(b)
		ctx := context.Background()
		base := usedMemory(b, conn)
		store := rdb.New(conn, rdb.Options{})
		prod := producer.New(store, "invites")
		invites := make([]tasks.Invite, n)
		for from := 0; from < n; from += 500 {
			items := make([]producer.Item, 0, 500)
			for i := from; i < min(n, from+500); i++ {
				invites[i] = benchInvite(b, "spring-2026", i)
				items = append(items, producer.Item{Invite: invites[i]})
			}
			if _, err := prod.EnqueueBatch(ctx, items, producer.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		// The campaign's tasks are in its lane of the sender's queues.
		lane, err := store.QueueOfCampaign(ctx, "invites", "spring-2026")
		if err != nil {
			b.Fatal(err)
		}
		m := memoryOf(b, conn, invites, lane)
		m["INFO used_memory delta"] = float64(usedMemory(b, conn)-base) / float64(n)
		report(b, "queued", m)

		sim, ts := simtest.NewServer(b, simulator.Config{})
		w, err := New(Config{
			Redis: asynq.RedisClientOpt{Addr: r.Addr}, Concurrency: 32, PollInterval: 50 * time.Millisecond, IdentityScheme: "http",
			Profiles: []Profile{{Name: tasks.DefaultSender, HomeserverURL: ts.URL, AccessToken: simulator.DefaultAccessToken,
				IDServer: simtest.IDServer(ts), IDAccessToken: simulator.DefaultIDAccessToken}},
		})
		if err != nil {
			b.Fatal(err)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		err = w.Run(rctx, true)
		cancel()
		if err != nil || sim.Stats().Accepted != int64(n) {
			b.Fatalf("worker: %v, %d accepted of %d", err, sim.Stats().Accepted, n)
		}
		m = memoryOf(b, conn, invites, lane)
		m["INFO used_memory delta"] = float64(usedMemory(b, conn)-base) / float64(n)
		report(b, "finished", m)
		b.StartTimer()
	}
}

// memoryOf sums MEMORY USAGE (SAMPLES 0: every element counted) per
// structure and divides by the invites.
func memoryOf(b *testing.B, rdb *redis.Client, invites []tasks.Invite, queue string) map[string]float64 {
	ctx := context.Background()
	usage := func(keys []string) float64 {
		cmds := make([]*redis.IntCmd, len(keys))
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.MemoryUsage(ctx, k, 0)
			}
			return nil
		})
		if err != nil && err != redis.Nil {
			b.Fatal(err)
		}
		var sum int64
		for _, c := range cmds {
			sum += c.Val()
		}
		return float64(sum) / float64(len(invites))
	}
	records, taskHashes := make([]string, len(invites)), make([]string, len(invites))
	for i, inv := range invites {
		records[i] = "mxinvite:invite:" + inv.Key()
		taskHashes[i] = "asynq:{" + queue + "}:t:" + inv.TaskID()
	}
	q := "asynq:{" + queue + "}:"
	return map[string]float64{
		"record":                               usage(records),
		"campaign index (list, rdb/index.go)":  usage([]string{"mxinvite:campaign:spring-2026:order"}),
		"campaign counters":                    usage([]string{"mxinvite:campaign:spring-2026:counts"}),
		"results stream":                       usage([]string{"mxinvite:results"}),
		"asynq task hash":                      usage(taskHashes),
		"asynq pending list":                   usage([]string{q + "pending"}),
		"asynq scheduled/retry/archived zsets": usage([]string{q + "scheduled", q + "retry", q + "archived"}),
	}
}

func report(b *testing.B, phase string, m map[string]float64) {
	var lines []string
	total := 0.0
	for k, v := range m {
		if !strings.HasPrefix(k, "INFO") {
			total += v
		}
		lines = append(lines, fmt.Sprintf("  %-38s %7.1f B", k, v))
	}
	sortStrings(lines)
	b.Logf("%s, per invite (MEMORY USAGE):\n%s\n  %-38s %7.1f B", phase, strings.Join(lines, "\n"), "sum of the structures", total)
	b.ReportMetric(total, "B/"+phase)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func usedMemory(b *testing.B, rdb *redis.Client) int64 {
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
