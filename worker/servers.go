package worker

import (
	"sync"

	"github.com/hibiken/asynq"

	"github.com/mxinvite/mxinvite/internal/asynqlog"
	"github.com/mxinvite/mxinvite/tasks"
)

// One asynq server per lane of each sender (tasks/queue.go), with the
// sender's concurrency, and one for the base queue: a sender's closed gate
// or backlog holds only its own slots (docs/architecture.md, "Turns").

// served is one asynq server and the queue it serves.
type served struct {
	queue string
	srv   *asynq.Server
}

// queues are the queues served: the base queue, then the senders' lanes.
func (w *Worker) queues() []string {
	out := make([]string, len(w.servers))
	for i, s := range w.servers {
		out[i] = s.queue
	}
	return out
}

func (w *Worker) newServers() []served {
	out := []served{{queue: w.cfg.Queue, srv: w.newServer(w.cfg.Queue, w.cfg.Concurrency)}}
	for _, p := range w.cfg.Profiles {
		for _, q := range tasks.SenderQueues(w.cfg.Queue, p.Name) {
			out = append(out, served{queue: q, srv: w.newServer(q, p.concurrency(w.cfg))})
		}
	}
	return out
}

func (w *Worker) newServer(queue string, concurrency int) *asynq.Server {
	return asynq.NewServerFromRedisClient(w.store.Conn(), asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{queue: 1},
		RetryDelayFunc:           w.handler.retryDelay,
		IsFailure:                isFailure,
		ShutdownTimeout:          w.cfg.ShutdownTimeout,
		TaskCheckInterval:        w.cfg.PollInterval,
		DelayedTaskCheckInterval: w.cfg.PollInterval,
		Logger:                   asynqlog.Logger{L: w.cfg.Logger},
		LogLevel:                 asynq.ErrorLevel, // its per-task warnings repeat what the results say
	})
}

// startServers starts every server; if one fails, those started stop.
func (w *Worker) startServers() error {
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeInvite3PID, w.handler)
	for i, s := range w.servers {
		if err := s.srv.Start(mux); err != nil {
			for _, started := range w.servers[:i] {
				started.srv.Shutdown()
			}
			return err
		}
	}
	return nil
}

// shutdownServers shuts every server down at once (each waits for its
// in-flight invites up to ShutdownTimeout).
func (w *Worker) shutdownServers() {
	var wg sync.WaitGroup
	for _, s := range w.servers {
		wg.Go(s.srv.Shutdown)
	}
	wg.Wait()
}
