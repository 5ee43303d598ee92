package turns

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mxinvite/mxinvite/tasks"
)

// A freed slot goes to the waiting invite of the highest priority, the
// longest waiting first among equals.
func TestSlotsGiveTurnsByPriorityThenArrival(t *testing.T) {
	s := New(1)
	release, err := s.Acquire(t.Context(), nil, tasks.PriorityNormal)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		order []string
		wg    sync.WaitGroup
	)
	wait := func(name string, p tasks.Priority) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := s.Acquire(t.Context(), nil, p)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			rel()
		}()
		for deadline := time.Now().Add(5 * time.Second); s.Waiting() < len(name) && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	// Names as long as the number waiting once each has queued.
	wait("a", tasks.PriorityNormal)
	wait("lo", tasks.PriorityLow)
	wait("bbb", tasks.PriorityNormal)
	wait("high", tasks.PriorityHigh)
	if n := s.Waiting(); n != 4 {
		t.Fatalf("%d waiting, want 4", n)
	}
	release()
	wg.Wait()
	want := []string{"high", "a", "bbb", "lo"}
	if len(order) != len(want) {
		t.Fatalf("order %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestSlotsWaitRespectsShutdownAndContext(t *testing.T) {
	s := New(1)
	release, err := s.Acquire(context.Background(), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	stopping := make(chan struct{})
	close(stopping)
	if _, err := s.Acquire(context.Background(), stopping, ""); !errors.Is(err, ErrStopping) {
		t.Fatalf("while stopping: %v, want ErrStopping", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Acquire(ctx, nil, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want context.Canceled", err)
	}
	if n := s.Waiting(); n != 0 {
		t.Fatalf("%d still waiting after giving up", n)
	}
	release()
	rel, err := s.Acquire(context.Background(), nil, "")
	if err != nil {
		t.Fatalf("the slot was lost: %v", err)
	}
	rel()
	if New(0) != nil {
		t.Fatal("New(0) is a cap")
	}
}
