// Package lanes runs the asynq servers of a worker: one for the base queue,
// where earlier releases put every invite, and one for each lane of each
// sender it serves (tasks/queue.go), with the sender's concurrency, the
// way Sidekiq and River give each kind of work its own queue and
// concurrency. A sender whose gate is closed, or whose backlog is long,
// holds only its own slots; another sender's due invites go out meanwhile.
//
// A lane's server starts when the lane first exists in asynq (a producer
// enqueued into it), found by a look at asynq's queue set every poll
// interval: a worker serving many senders does not run and poll a server
// for each of their five lanes, most of which are never used. A lane's
// server looks for tasks once a second while its queue is empty (once it
// has tasks it takes them as slots free); scheduled and retrying tasks are
// looked for every poll interval, as on the base queue.
package lanes

import (
	"context"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/tasks"
)

// IdleCheck is how often a lane's server looks for tasks while its queue
// is empty.
const IdleCheck = time.Second

// Config is what every server shares.
type Config struct {
	// NewServer makes a server on the worker's Redis connection (only
	// internal/rdb holds Redis clients).
	NewServer func(asynq.Config) *asynq.Server
	// Base is the base queue; Senders the concurrency of each sender
	// served (its lanes' servers take one task more: see Set.add).
	Base    string
	BaseCon int
	Senders map[string]int
	// Handler runs the tasks; Server the rest of asynq's configuration
	// (Concurrency and Queues are set per server).
	Handler asynq.Handler
	Server  asynq.Config
	// Known lists the queues under Base that asynq knows.
	Known func(ctx context.Context) ([]string, error)
}

// Set is the running servers.
type Set struct {
	cfg     Config
	mux     *asynq.ServeMux
	mu      sync.Mutex
	servers map[string]*asynq.Server
	order   []string
	closed  bool // shut down: no server starts any more
}

// Start starts the base queue's server and those of the lanes that
// exist.
func Start(ctx context.Context, cfg Config) (*Set, error) {
	s := &Set{cfg: cfg, mux: asynq.NewServeMux(), servers: map[string]*asynq.Server{}}
	s.mux.Handle(tasks.TypeInvite3PID, cfg.Handler)
	if err := s.add(cfg.Base, cfg.BaseCon, s.cfg.Server.TaskCheckInterval); err != nil {
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		s.Shutdown()
		return nil, err
	}
	return s, nil
}

// Refresh starts a server for every lane of a served sender that exists
// in asynq and has none yet.
func (s *Set) Refresh(ctx context.Context) error {
	known, err := s.cfg.Known(ctx)
	if err != nil {
		return err
	}
	for _, q := range known {
		sender, _, ok := tasks.LaneOf(s.cfg.Base, q)
		con, served := s.cfg.Senders[sender]
		if !ok || !served {
			continue
		}
		s.mu.Lock()
		_, running := s.servers[q]
		s.mu.Unlock()
		if running {
			continue
		}
		// +1: a lane with a backlog always has an invite waiting for the
		// sender's next free slot, which internal/turns gives by priority.
		if err := s.add(q, con+1, IdleCheck); err != nil {
			return err
		}
	}
	return nil
}

// Watch refreshes every interval until ctx ends.
func (s *Set) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Refresh(ctx) // a Redis blip: the next tick tries again
		}
	}
}

func (s *Set) add(queue string, concurrency int, idle time.Duration) error {
	c := s.cfg.Server
	c.Concurrency, c.Queues, c.TaskCheckInterval = concurrency, map[string]int{queue: 1}, idle
	srv := s.cfg.NewServer(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if err := srv.Start(s.mux); err != nil {
		return err
	}
	s.servers[queue] = srv
	s.order = append(s.order, queue)
	return nil
}

// Queues are the queues served: the base queue, then the lanes in the
// order their servers started.
func (s *Set) Queues() []string {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// Shutdown shuts every server down at once (each waits for its in-flight
// invites up to its ShutdownTimeout).
func (s *Set) Shutdown() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	servers := make([]*asynq.Server, 0, len(s.servers))
	for _, srv := range s.servers {
		servers = append(servers, srv)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, srv := range servers {
		wg.Go(srv.Shutdown)
	}
	wg.Wait()
}
