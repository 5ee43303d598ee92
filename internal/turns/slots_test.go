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

// The first in line is the highest priority, then the longest waiting;
// each place behind it asks the gate a step later.
func TestLineRanksByPriorityThenArrival(t *testing.T) {
	var l Line
	a := l.Join(tasks.PriorityNormal)
	lo := l.Join(tasks.PriorityLow)
	b := l.Join(tasks.PriorityNormal)
	h := l.Join(tasks.PriorityHigh)
	for _, tc := range []struct {
		name string
		pl   *Place
		rank int
	}{{"high", h, 0}, {"a", a, 1}, {"b", b, 2}, {"low", lo, 3}} {
		if r := tc.pl.Rank(); r != tc.rank {
			t.Errorf("%s: rank %d, want %d", tc.name, r, tc.rank)
		}
	}
	if d := lo.Delay(); d != 3*StepDelay {
		t.Errorf("low's delay %s, want %s", d, 3*StepDelay)
	}
	h.Leave()
	if r := a.Rank(); r != 0 {
		t.Errorf("after high left, a's rank %d, want 0", r)
	}
}
