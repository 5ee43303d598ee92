package ops_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mxinvite/mxinvite/internal/ops"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

// gauge records what SenderPauses reports.
type gauge struct {
	mu sync.Mutex
	v  map[string]bool
}

func (g *gauge) set(sender string, paused bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.v == nil {
		g.v = map[string]bool{}
	}
	g.v[sender] = paused
}

func (g *gauge) get() map[string]bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]bool{}
	for k, v := range g.v {
		out[k] = v
	}
	return out
}

// TestSenderPausesReadRedis: readiness and the gauge follow the pauses in
// Redis whoever sets or ends them (here another Store, as the CLI or
// another worker would), and a Redis emptied of them.
func TestSenderPausesReadRedis(t *testing.T) {
	r := redistest.Start(t)
	conn := r.Client(t)
	prefix := redistest.Unique(t, "mx")
	store := rdb.New(conn, rdb.Options{Prefix: prefix})
	g := &gauge{}
	p := ops.NewSenderPauses(ops.StorePauses{Store: rdb.New(conn, rdb.Options{Prefix: prefix})}, []string{"a", "b"}, 0, g.set, nil)
	ctx := context.Background()
	poll := func() map[string]bool {
		t.Helper()
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		return g.get()
	}

	if got := poll(); len(got) != 2 || got["a"] || got["b"] {
		t.Errorf("nothing paused: gauge %v, want a and b at 0", got)
	}
	if got := ready(p); got != "" {
		t.Errorf("nothing paused: %q", got)
	}
	if _, err := store.SetPause(ctx, record.PauseSender, "a", record.PauseManual, "held by an operator"); err != nil {
		t.Fatal(err)
	}
	if got := poll(); !got["a"] || got["b"] {
		t.Errorf("a paused: gauge %v", got)
	}
	if got := ready(p); got != "" {
		t.Errorf("one of two paused: %q, want ready", got)
	}
	if _, err := store.SetPause(ctx, record.PauseSender, "b", record.PauseDeadToken, "token refused"); err != nil {
		t.Fatal(err)
	}
	if got, want := ready(p), "every sender is paused (a: held by an operator; b: token refused)"; got != want {
		t.Errorf("both paused: %q, want %q", got, want)
	}
	if got := poll(); !got["a"] || !got["b"] {
		t.Errorf("both paused: gauge %v", got)
	}
	// Resumed elsewhere (mxinvite resume ends the pause in Redis).
	if _, err := store.ClearPause(ctx, record.PauseSender, "b"); err != nil {
		t.Fatal(err)
	}
	if got := ready(p); got != "" {
		t.Errorf("b resumed elsewhere: %q, want ready", got)
	}
	if got := poll(); !got["a"] || got["b"] {
		t.Errorf("b resumed elsewhere: gauge %v", got)
	}
	// Redis restarted empty: no pause left.
	if err := conn.Del(ctx, conn.Keys(ctx, prefix+":*").Val()...).Err(); err != nil {
		t.Fatal(err)
	}
	if got := poll(); got["a"] || got["b"] {
		t.Errorf("pauses gone from Redis: gauge %v", got)
	}
}

// failingSource answers every read with an error.
type failingSource struct{}

func (failingSource) PausedSenders(context.Context, []string) (map[string]string, error) {
	return nil, errors.New("redis down")
}

func TestSenderPausesKeepTheGaugeWhenRedisFails(t *testing.T) {
	g := &gauge{}
	g.set("a", true)
	p := ops.NewSenderPauses(failingSource{}, []string{"a"}, 0, g.set, nil)
	if err := p.Poll(context.Background()); err == nil {
		t.Fatal("Poll with Redis down: no error")
	}
	if got := g.get(); !got["a"] {
		t.Errorf("gauge %v after a failed poll, want a still 1", got)
	}
	if got := ready(p); got != "redis down" {
		t.Errorf("readiness with Redis down: %q", got)
	}
}
