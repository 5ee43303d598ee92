package simulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long a stopping server waits for requests in
// flight (latency sleeps included) before closing connections.
const shutdownGrace = 5 * time.Second

// ListenAndServe serves the simulator on addr until ctx is done, then
// shuts down gracefully. addr must name a loopback host (127.0.0.1:8008,
// [::1]:0, localhost:8008): the /_sim/ control paths have no
// authentication, so the simulator must not be reachable from elsewhere.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := Listen(addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Listen opens a listener for [Server.Serve] on addr, which must be a
// loopback address as for ListenAndServe; with port 0, ln.Addr() tells
// the port chosen.
func Listen(addr string) (net.Listener, error) {
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return ln, nil
}

// Serve serves the simulator on ln until ctx is done, then shuts down
// gracefully and closes ln. Use it instead of ListenAndServe to learn the
// port of a ":0" listener (ln.Addr()) before serving.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Bounded header size, like the body cap: a simulator needs little.
		MaxHeaderBytes: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("simulator: %w", err)
	case <-ctx.Done():
	}
	s.Close() // release hanging (timeout-fault) requests
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("simulator: %w", serveErr)
	}
	if err != nil {
		return fmt.Errorf("simulator: shutdown: %w", err)
	}
	return nil
}

// checkLoopback refuses addresses whose host is not loopback, including
// an empty host (":8008"), which would listen on every interface.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("simulator: address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("simulator: address %q is not loopback (use 127.0.0.1, ::1 or localhost)", addr)
}
