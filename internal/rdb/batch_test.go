package rdb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// Calls made while a batch is being written are written together, and each
// caller gets its own result.
func TestBatcherGroupsConcurrentCalls(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(64, 0, func(_ context.Context, reqs []int) ([]string, error) {
		mu.Lock()
		first := len(sizes) == 0
		sizes = append(sizes, len(reqs))
		mu.Unlock()
		if first {
			<-release // hold the first batch until the others queue up
		}
		out := make([]string, len(reqs))
		for i, r := range reqs {
			out[i] = fmt.Sprint("r", r)
		}
		return out, nil
	})
	ctx := context.Background()
	first := make(chan string)
	go func() { s, _ := b.do(ctx, 0); first <- s }()
	waitFor(t, 10*time.Second, "the first batch to start", func() bool { mu.Lock(); defer mu.Unlock(); return len(sizes) == 1 })
	const n = 20
	var wg sync.WaitGroup
	got := make([]string, n)
	for i := 1; i <= n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); got[i-1], _ = b.do(ctx, i) }()
	}
	waitFor(t, 10*time.Second, "the other calls to queue", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.pending) == n })
	close(release)
	wg.Wait()
	if s := <-first; s != "r0" {
		t.Fatalf("first call got %q", s)
	}
	for i, s := range got {
		if s != fmt.Sprint("r", i+1) {
			t.Fatalf("call %d got %q", i+1, s)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sizes) != 2 || sizes[1] != n {
		t.Fatalf("batches of %v, want [1 %d]", sizes, n)
	}
}

// A batch's error reaches every caller of that batch.
func TestBatcherErrorReachesEveryCaller(t *testing.T) {
	b := newBatcher(64, time.Millisecond, func(context.Context, []int) ([]int, error) { return nil, fmt.Errorf("redis down") })
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = b.do(context.Background(), i) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil || err.Error() != "redis down" {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}
