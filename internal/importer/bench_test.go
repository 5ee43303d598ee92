package importer

import (
	"context"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkImport imports a generated list of MXINVITE_BENCH_ROWS rows
// (default 100,000; one in 1,000 bad), streamed through a pipe, per
// iteration against a real Redis, each iteration as a new campaign with the
// previous one's keys deleted. It reports rows/s, the Redis CPU time per row
// (INFO cpu; it includes other clients of a shared REDIS_ADDR), the peak Go
// heap seen while importing and the test process's peak RSS (VmHWM on
// Linux; redis-server is a separate process and not counted).
//
//	MXINVITE_BENCH_ROWS=1000000 go test -run XXX -bench Import -benchtime 1x ./internal/importer/
func BenchmarkImport(b *testing.B) {
	rows := 100_000
	if s := os.Getenv("MXINVITE_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("MXINVITE_BENCH_ROWS=%q: want a positive number", s)
		}
		rows = n
	}
	e := newTestEnv(b)
	runtime.GC()
	peak := watchHeap()
	var elapsed time.Duration
	var redisCPU float64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		opts := e.opts()
		opts.Campaign = "bench-" + strconv.Itoa(i)
		cpu0 := e.redisCPU()
		start := time.Now()
		st, err := Run(context.Background(), opts, generated(rows, 1000), nil, nil)
		elapsed += time.Since(start)
		redisCPU += e.redisCPU() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if st.Enqueued != int64(rows-rows/1000) {
			b.Fatalf("stats %+v", st)
		}
		b.StopTimer()
		e.flush() // keep Redis from growing across iterations
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(redisCPU/float64(rows)/float64(b.N)*1e6, "redis-µs/row")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peak-rss-MB")
}

// redisCPU returns the CPU seconds Redis has used (INFO cpu), so the
// benchmark can tell how much of each row's cost is Redis's.
func (e *testEnv) redisCPU() float64 {
	info, err := e.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for line := range strings.SplitSeq(info, "\n") {
		for _, f := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), f); ok {
				x, _ := strconv.ParseFloat(v, 64)
				total += x
			}
		}
	}
	return total
}

// flush deletes the test's keys (the prefix and the queue's).
func (e *testEnv) flush() {
	ctx := context.Background()
	for _, pattern := range []string{e.prefix + ":*", "asynq:{" + e.queue + "}*", "asynq:{" + e.queue + ":*"} {
		iter := e.rdb.Scan(ctx, 0, pattern, 10000).Iterator()
		var batch []string
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 10000 {
				e.rdb.Unlink(ctx, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			e.rdb.Unlink(ctx, batch...)
		}
	}
}

// watchHeap samples the live heap every 10ms until the returned function
// is called, which returns the peak seen.
func watchHeap() func() uint64 {
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				metrics.Read(sample)
				mu.Lock()
				peak = max(peak, sample[0].Value.Uint64())
				mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() uint64 {
		once.Do(func() { close(done) })
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// peakRSS returns the process's peak resident set (Linux VmHWM), 0 elsewhere.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
