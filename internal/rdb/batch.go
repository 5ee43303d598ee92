package rdb

import (
	"context"
	"sync"
	"time"
)

// batcher is group commit, as databases do it: calls made while a batch is
// being written to Redis wait, and are written together, in one script
// call, as soon as it returns. Under light load a call goes alone at once
// (no added latency); under heavy load the batches grow, and the round
// trips, EVALSHA calls and counter updates per invite shrink — Redis, one
// shared single-threaded server for the whole fleet, is what bounds it.
// Each caller gets its own result and waits only for its own batch.
type batcher[Req, Res any] struct {
	// write writes one batch (one script call). It returns one result per
	// request, or an error for the whole batch (Redis unreachable).
	write  func(ctx context.Context, reqs []Req) ([]Res, error)
	max    int           // requests per batch
	linger time.Duration // how long a batch waits for company before it is written

	mu      sync.Mutex
	pending []*batchCall[Req, Res]
	busy    bool // a goroutine is writing batches
}

type batchCall[Req, Res any] struct {
	req  Req
	res  Res
	err  error
	done chan struct{}
}

// batchWriteTimeout bounds one batch's script call. The callers' own
// contexts bound their waits; a batch is written with a context of its own,
// so that one caller giving up does not fail the others.
const batchWriteTimeout = 10 * time.Second

func newBatcher[Req, Res any](max int, linger time.Duration, write func(context.Context, []Req) ([]Res, error)) *batcher[Req, Res] {
	return &batcher[Req, Res]{write: write, max: max, linger: linger}
}

// do queues req and waits for its batch to be written. A caller whose ctx
// ends first gets ctx's error, but its request may still be written: every
// write through a batcher must be safe to find done (or half done) later.
func (b *batcher[Req, Res]) do(ctx context.Context, req Req) (Res, error) {
	c := &batchCall[Req, Res]{req: req, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	if !b.busy {
		b.busy = true
		go b.drain()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		var zero Res
		return zero, ctx.Err()
	}
}

// drain writes batches until nothing waits.
func (b *batcher[Req, Res]) drain() {
	for {
		if b.linger > 0 {
			b.mu.Lock()
			short := len(b.pending) < b.max
			b.mu.Unlock()
			if short {
				time.Sleep(b.linger)
			}
		}
		b.mu.Lock()
		n := min(len(b.pending), b.max)
		if n == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		calls := b.pending[:n:n]
		b.pending = append([]*batchCall[Req, Res](nil), b.pending[n:]...)
		b.mu.Unlock()

		reqs := make([]Req, n)
		for i, c := range calls {
			reqs[i] = c.req
		}
		ctx, cancel := context.WithTimeout(context.Background(), batchWriteTimeout)
		res, err := b.write(ctx, reqs)
		cancel()
		for i, c := range calls {
			if err != nil {
				c.err = err
			} else {
				c.res = res[i]
			}
			close(c.done)
		}
	}
}
