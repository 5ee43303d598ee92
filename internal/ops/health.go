package ops

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// healthz says the process is alive and serving HTTP: nothing else, so
// that a supervisor restarts it only when it is truly stuck.
func healthz(w http.ResponseWriter, _ *http.Request) { plain(w, http.StatusOK, "ok\n") }

// readyz says whether the worker can do its job: 200 "ready", or 503 with
// one line per failing check.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Readiness == nil {
		plain(w, http.StatusOK, "ready\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReadyTimeout)
	defer cancel()
	if err := s.cfg.Readiness.Ready(ctx); err != nil {
		plain(w, http.StatusServiceUnavailable, "not ready:\n"+err.Error()+"\n")
		return
	}
	plain(w, http.StatusOK, "ready\n")
}

// Readiness decides /readyz: nil when the worker can do its job, else why
// not (short plain text: it is shown to operators and probes).
type Readiness interface {
	Ready(ctx context.Context) error
}

// ReadyFunc is a Readiness made of a function.
type ReadyFunc func(ctx context.Context) error

// Ready calls f.
func (f ReadyFunc) Ready(ctx context.Context) error { return f(ctx) }

// Check is one named part of readiness.
type Check struct {
	// Name prefixes the check's failure, e.g. "redis".
	Name string
	// Readiness is the check.
	Readiness Readiness
}

// AllReady is ready when every check is; otherwise its error lists every
// failing check, one per line as "name: reason", in the order given.
func AllReady(checks ...Check) Readiness {
	return ReadyFunc(func(ctx context.Context) error {
		var failed []string
		for _, c := range checks {
			if err := c.Readiness.Ready(ctx); err != nil {
				failed = append(failed, c.Name+": "+oneLine(err.Error()))
			}
		}
		if len(failed) == 0 {
			return nil
		}
		return errors.New(strings.Join(failed, "\n"))
	})
}

// Pinger is a connection that can tell whether its server answers
// (*rdb.Client is one).
type Pinger interface {
	Ping(ctx context.Context) error
}

// RedisPing is ready when Redis answers PING.
func RedisPing(p Pinger) Readiness {
	return ReadyFunc(p.Ping)
}

// WhenTrue is ready while ok returns true, else it fails with reason
// (e.g. WhenTrue(w.Started, "not started")).
func WhenTrue(ok func() bool, reason string) Readiness {
	return ReadyFunc(func(context.Context) error {
		if ok() {
			return nil
		}
		return errors.New(reason)
	})
}

// oneLine folds a multi-line reason so that each check stays on its line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
