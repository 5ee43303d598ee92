// Package ops is the worker's HTTP server for operators: /metrics,
// /healthz, /readyz, and whatever else is mounted on it (asynqmon at
// /asynq/, a dashboard). One webguard.Guard protects all of it: with a
// token, every path but /healthz and /readyz needs it; without one, the
// server listens on loopback only.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/mxinvite/mxinvite/internal/webguard"
)

// Config configures New. Zero fields take the documented defaults.
type Config struct {
	// Addr is the address to listen on, host:port; port 0 picks a free one
	// (see Server.Addr). Required.
	Addr string
	// Metrics is served at /metrics. Default nil: no /metrics.
	Metrics http.Handler
	// Readiness decides /readyz. Default nil: ready whenever the process
	// answers.
	Readiness Readiness
	// ReadyTimeout bounds one /readyz evaluation. Default 1 s, within
	// the usual probe timeouts, so a probe reads the reason.
	ReadyTimeout time.Duration
	// Root serves every path the endpoints do not (the campaign
	// dashboard). Default nil: "/" lists the endpoints, and with a token
	// a plain login form is served at /login.
	Root http.Handler
	// OpenPaths are Root's paths that need no token (dashboard.OpenPaths():
	// its login page and assets). Default none.
	OpenPaths []string
	// Guard protects every path but /healthz and /readyz (Host, origin,
	// token; see internal/webguard). Default: a Guard without a token,
	// which Validate accepts on a loopback Addr only.
	Guard *webguard.Guard
	// Logger receives the server's errors. Default: a disabled logger.
	Logger *zerolog.Logger
}

// WithDefaults returns a copy with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = time.Second
	}
	if c.Logger == nil {
		l := zerolog.Nop()
		c.Logger = &l
	}
	if c.Guard == nil {
		c.Guard, _ = webguard.New(webguard.Options{}) // no options: nothing to fail
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("ops server: Addr %q: want host:port, e.g. 127.0.0.1:9090", c.Addr)
	}
	if c.ReadyTimeout < 0 {
		return fmt.Errorf("ops server: ReadyTimeout %v must not be negative", c.ReadyTimeout)
	}
	// Without a token nothing but the address keeps /metrics, asynqmon and
	// the dashboard from whoever reaches the port.
	if err := webguard.CheckListen(c.Addr, c.Guard != nil && c.Guard.HasToken()); err != nil {
		return fmt.Errorf("ops server: %w", err)
	}
	return nil
}

// Server serves the operator endpoints. Mount handlers, then Start.
type Server struct {
	cfg  Config
	mux  *http.ServeMux
	http *http.Server

	mu      sync.Mutex
	paths   []string
	closers []io.Closer
	ln      net.Listener
	served  chan struct{}
}

// HealthPaths are the paths that answer without the token and to any
// Host: probes reach them by any name, and they hold no personal data.
func HealthPaths() []string { return []string{"/healthz", "/readyz"} }

// New builds the server with /healthz, /readyz and, when Config.Metrics is
// set, /metrics, all behind Config.Guard; it listens only on Start.
func New(cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	open := cfg.OpenPaths
	if cfg.Root == nil && cfg.Guard.HasToken() {
		// Browsers need a login form to reach asynqmon without the dashboard.
		open = []string{webguard.LoginPath}
	}
	s.http = &http.Server{
		Handler:           cfg.Guard.Handler(s.mux, webguard.Routes{Health: HealthPaths(), Open: open}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      time.Minute, // asynqmon's listings of large queues take a while
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if cfg.Root != nil {
		s.Mount("/", cfg.Root)
	} else {
		s.Mount("GET /{$}", http.HandlerFunc(s.index))
		if cfg.Guard.HasToken() {
			login := cfg.Guard.LoginHandler()
			s.Mount(webguard.LoginPath, login)
			s.Mount("POST /logout", login)
		}
	}
	s.Mount("GET /healthz", http.HandlerFunc(healthz))
	s.Mount("GET /readyz", http.HandlerFunc(s.readyz))
	if cfg.Metrics != nil {
		s.Mount("GET /metrics", cfg.Metrics)
	}
	return s, nil
}

// Mount serves h at pattern (an http.ServeMux pattern: "/asynq/" serves
// the subtree, "GET /x" one path). Like ServeMux.Handle it panics when the
// pattern is invalid or conflicts with one already mounted: patterns come
// from code, not from users. Handlers that are io.Closers are closed by
// Shutdown.
func (s *Server) Mount(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paths = append(s.paths, pattern)
	if c, ok := h.(io.Closer); ok {
		s.closers = append(s.closers, c)
	}
}

// Start listens on Config.Addr and serves in the background. A failure to
// listen (address in use, bad host) is returned at once.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ops server: %w", err)
	}
	s.mu.Lock()
	s.ln, s.served = ln, make(chan struct{})
	s.mu.Unlock()
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error().Err(err).Msg("ops server stopped")
		}
	}()
	s.cfg.Logger.Info().Str("addr", ln.Addr().String()).Strs("paths", s.Paths()).Msg("ops server listening")
	return nil
}

// Addr is the address listened on (with the port picked for port 0), ""
// before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Paths are the patterns mounted, in order.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

// Shutdown stops listening, lets requests in progress finish until ctx
// ends, and closes the mounted handlers that are io.Closers.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	s.mu.Lock()
	served, closers := s.served, s.closers
	s.closers = nil
	s.mu.Unlock()
	if served != nil && err == nil {
		<-served
	}
	for _, c := range closers {
		err = errors.Join(err, c.Close())
	}
	return err
}

// index lists the endpoints, for a human who opens the root.
func (s *Server) index(w http.ResponseWriter, _ *http.Request) {
	var b strings.Builder
	b.WriteString("mxinvite worker\n")
	for _, p := range s.Paths() {
		if _, path, ok := strings.Cut(p, " "); ok {
			p = path
		}
		if p != "/{$}" {
			b.WriteString(p + "\n")
		}
	}
	plain(w, http.StatusOK, b.String())
}

// plain writes a short plain-text answer that no cache keeps.
func plain(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}
