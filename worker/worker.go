package worker

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/asynqlog"
	"github.com/mxinvite/mxinvite/internal/lanes"
	"github.com/mxinvite/mxinvite/internal/rdb"
	"github.com/mxinvite/mxinvite/internal/record"
	"github.com/mxinvite/mxinvite/internal/tokenfile"
	"github.com/mxinvite/mxinvite/matrix"
)

// Worker executes invite tasks with a Handler: one asynq server per lane
// of each sender it serves, and one for the base queue (internal/lanes).
type Worker struct {
	cfg       Config
	store     *rdb.Client
	servers   atomic.Pointer[lanes.Set] // set by Start; the loops may look before
	handler   *Handler
	inspector *asynq.Inspector
	client    *asynq.Client // re-deliveries of taken-over invites
	// id is this process's identity in the liveness heartbeats and on the
	// invites it holds (takeover.go).
	id string

	stopOnce sync.Once
	stopping chan struct{}
	// bg runs the worker's background loops (served-senders beats, token
	// files); cancelled by Shutdown.
	bg       context.Context
	bgCancel context.CancelFunc
	bgDone   sync.WaitGroup
	started  atomic.Bool // serving: between Start and Shutdown
}

// New builds a worker; it does not contact Redis until Start.
func New(cfg Config) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	id := newWorkerID()
	store, err := rdb.Open(cfg.Redis, rdb.Options{Prefix: cfg.KeyPrefix, StreamMaxLen: max(cfg.StreamMaxLen, 0),
		FinishedTTL: cfg.FinishedTTL, WorkerID: id})
	if err != nil {
		return nil, fmt.Errorf("worker config: %w", err)
	}
	if cfg.HTTPClient == nil {
		conns := cfg.Concurrency
		for _, p := range cfg.Profiles {
			conns += p.concurrency(cfg)
		}
		cfg.HTTPClient = matrix.NewHTTPClient(conns)
	}
	w := &Worker{cfg: cfg, store: store, stopping: make(chan struct{}), id: id}
	w.bg, w.bgCancel = context.WithCancel(context.Background())
	w.handler = &Handler{
		cfg:      cfg,
		ledger:   store,
		senders:  map[string]*sender{},
		backoff:  backoffSchedule(cfg.Policy.Waits, cfg.BackoffMax),
		resolver: matrix.NewResolver(cfg.LookupCacheTTL, 1),
		breaker:  newBreaker(cfg.Breaker),
		stopping: w.stopping,
	}
	for _, p := range cfg.Profiles {
		if p.AccessToken == "" {
			tok, err := tokenfile.Read(p.AccessTokenFile)
			if err != nil {
				_ = store.Close()
				return nil, fmt.Errorf("sender %q: %w", p.Name, err)
			}
			p.AccessToken = tok
		}
		w.handler.senders[p.Name] = newSender(p, cfg)
	}
	w.inspector = asynq.NewInspectorFromRedisClient(store.Conn())
	w.client = asynq.NewClientFromRedisClient(store.Conn())
	return w, nil
}

// newWorkerID names a worker process uniquely: host, PID and a random
// part (a restarted process on the same host with the same PID is another
// worker).
func newWorkerID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// ID is the worker's identity in the liveness heartbeats (takeover.go).
func (w *Worker) ID() string { return w.id }

// Handler returns the task handler (for embedding in another asynq server).
func (w *Worker) Handler() *Handler { return w.handler }

// Store returns the Redis client the worker reads and writes through.
func (w *Worker) Store() *rdb.Client { return w.store }

// Start checks every sender (startcheck.go: a wrong URL, token or token
// file is a *SenderError, before any task is taken), then starts
// processing in the background.
func (w *Worker) Start() error {
	if err := w.checkSenders(w.bg); err != nil {
		return err
	}
	// Alive before the first delivery marks an invite with this worker's
	// ID, so that a crash at any moment after it is seen (takeover.go).
	if err := w.store.Heartbeat(w.bg, w.id, rdb.WorkerTTL); err != nil {
		w.cfg.Logger.Warn().Err(err).Msg("worker heartbeat")
	}
	w.background(w.serveBeats)
	w.background(w.liveness)
	if w.cfg.TrackEvery > 0 {
		w.background(w.trackLoop)
	}
	for _, s := range w.handler.senders {
		if s.AccessTokenFile != "" {
			s := s
			w.background(func(ctx context.Context) { w.watchToken(ctx, s) })
		}
	}
	senders := map[string]int{}
	for _, p := range w.cfg.Profiles {
		senders[p.Name] = p.concurrency(w.cfg)
	}
	newServer := func(c asynq.Config) *asynq.Server { return asynq.NewServerFromRedisClient(w.store.ServerConn(), c) }
	set, err := lanes.Start(w.bg, lanes.Config{NewServer: newServer, Base: w.cfg.Queue, BaseCon: w.cfg.Concurrency,
		Senders: senders, Handler: w.handler, Known: func(ctx context.Context) ([]string, error) { return w.store.QueuesUnder(ctx, w.cfg.Queue) },
		Server: asynq.Config{RetryDelayFunc: w.handler.retryDelay, IsFailure: isFailure, ShutdownTimeout: w.cfg.ShutdownTimeout,
			TaskCheckInterval: w.cfg.PollInterval, DelayedTaskCheckInterval: w.cfg.PollInterval, Logger: asynqlog.Logger{L: w.cfg.Logger},
			LogLevel: asynq.ErrorLevel}}) // asynq's per-task warnings repeat what the results say
	if err != nil {
		return err
	}
	w.servers.Store(set)
	w.background(func(ctx context.Context) { set.Watch(ctx, w.cfg.PollInterval) })
	w.started.Store(true)
	return nil
}

func (w *Worker) background(loop func(context.Context)) {
	w.bgDone.Add(1)
	go func() {
		defer w.bgDone.Done()
		loop(w.bg)
	}()
}

// Started reports whether the worker is serving: Start succeeded and
// Shutdown has not begun (for readiness probes).
func (w *Worker) Started() bool { return w.started.Load() }

// Shutdown stops taking tasks, hands waiting invites back to the queue at
// once (their waits still honoured), lets in-flight requests finish within
// ShutdownTimeout, and returns when every invite is recorded or requeued.
func (w *Worker) Shutdown() {
	w.started.Store(false)
	w.stopOnce.Do(func() { close(w.stopping) })
	w.servers.Load().Shutdown()
	w.bgCancel()
	w.bgDone.Wait()
	_ = w.store.Close() // shared by the server and inspector, which cannot close it
}

// wakeHeld makes every task waiting in a retry set of the served queues
// due now, so that invites held by a pause that just ended go out at once
// (rdb.Client.WakeRetrying).
func (w *Worker) wakeHeld() {
	if _, err := w.store.WakeRetrying(w.bg, w.servers.Load().Queues()); err != nil {
		w.cfg.Logger.Warn().Err(err).Msg("waking held invites")
	}
}

// Run starts the worker and serves until ctx ends, or — with untilIdle —
// until the queue has nothing pending, scheduled, retrying or active (nil),
// or nothing but invites held by pauses (*record.HeldError). It then shuts down
// gracefully.
func (w *Worker) Run(ctx context.Context, untilIdle bool) error {
	if err := w.Start(); err != nil {
		w.Shutdown()
		return err
	}
	defer w.Shutdown()
	if !untilIdle {
		<-ctx.Done()
		return nil
	}
	return w.waitIdle(ctx)
}

// waitIdle returns once the queue has been seen empty twice in a row (one
// look could fall between a task's hand-back and its rescheduling).
func (w *Worker) waitIdle(ctx context.Context) error {
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	empty := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		idle, err := w.store.QueuesIdle(ctx, w.servers.Load().Queues())
		var held *record.HeldError
		if err == nil && !idle {
			held, err = w.store.HeldOnly(ctx)
		}
		if err != nil {
			w.cfg.Logger.Warn().Err(err).Msg("reading queue state")
			empty = 0
			continue
		}
		if idle || held != nil {
			empty++
		} else {
			empty = 0
		}
		if empty >= 2 {
			if held != nil {
				return held
			}
			return nil
		}
	}
}
