package rdb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
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
	inv, err := tasks.NewInvite(tasks.Invite{Campaign: campaign, RoomID: testRoom, Medium: tasks.MediumEmail,
		Address: fmt.Sprintf("member.%07d@example.org", i), EnqueuedAt: time.Now().UTC()})
	if err != nil {
		b.Fatal(err)
	}
	return inv
}

// BenchmarkPurge purges a campaign of finished invites (default 20,000;
// MXINVITE_BENCH_INVITES=200000 for the figure): invites/s.
// Records are registered and finished through the real scripts.
func BenchmarkPurge(b *testing.B) {
	n := benchInvites(20_000)
	r := redistest.StartOwned(b, redistest.Options{})
	conn := r.Client(b)
	ctx := context.Background()
	store := New(conn, Options{Prefix: "mx", StreamMaxLen: 100_000})
	for b.Loop() {
		b.StopTimer()
		for from := 0; from < n; from += maxRegisterBatch {
			regs := make([]record.Registration, 0, maxRegisterBatch)
			for i := from; i < min(n, from+maxRegisterBatch); i++ {
				regs = append(regs, record.Registration{Invite: benchInvite(b, "bench", i)})
			}
			if err := store.Register(ctx, regs, record.RegisterOptions{}); err != nil {
				b.Fatal(err)
			}
			// Finished through the worker's own final write, a batch per call.
			reqs := make([]finishReq, 0, len(regs))
			for _, reg := range regs {
				reqs = append(reqs, finishReq{inv: reg.Invite, p: record.Progress{Key: reg.Invite.Key(), Campaign: "bench"},
					u: record.AttemptUpdate{Attempts: 1}, f: record.Final{HTTPStatus: 200, FinishedAt: time.Now()}})
			}
			for len(reqs) > 0 {
				k := min(len(reqs), maxDeliveryBatch)
				if _, err := store.writeFinishes(ctx, reqs[:k]); err != nil {
					b.Fatal(err)
				}
				reqs = reqs[k:]
			}
		}
		b.StartTimer()
		cpu0 := redisCPU(b, conn)
		start := time.Now()
		var st record.PurgeStats
		err := store.purgeCampaign(ctx, "q", "bench", record.PurgeOptions{BatchSize: 500}, &st)
		mid := time.Since(start)
		st.StreamEntries, _ = store.purgeStream(ctx, record.PurgeOptions{Campaign: "bench", BatchSize: 500})
		elapsed := time.Since(start)
		cpu := redisCPU(b, conn) - cpu0
		b.Logf("records %s, stream %s (wall time); Redis CPU %.2f s, %.1f µs per invite", mid, elapsed-mid, cpu, cpu/float64(n)*1e6)
		b.ReportMetric(cpu/float64(n)*1e6, "redis-µs/invite")
		if err != nil || st.Records != n {
			b.Fatalf("purge: %+v, %v; want %d records", st, err, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "invites/s")
		b.Logf("purged %d finished invites (+%d stream entries) in %s", n, st.StreamEntries, elapsed.Round(time.Millisecond))
	}
}

// redisCPU is the CPU time Redis has used (user + system), in seconds: on a
// loaded machine a steadier measure of a purge's cost than wall time.
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for line := range strings.SplitSeq(info, "\r\n") {
		for _, f := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, f); ok {
				x, _ := strconv.ParseFloat(v, 64)
				total += x
			}
		}
	}
	return total
}
