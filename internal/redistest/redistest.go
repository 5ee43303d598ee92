// Package redistest gives tests a real Redis server.
//
// It uses REDIS_ADDR when set (a Redis someone else owns: it is never
// flushed, so tests isolate themselves with unique key prefixes and queue
// names), else it starts redis-server from PATH on a free loopback port with a
// temporary directory and stops it when the test ends.
//
// When neither is possible the test is skipped, unless MXINVITE_REQUIRE_REDIS
// is set (as .ci/run does): then it fails, so CI cannot pass by skipping.
package redistest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/mxinvite/mxinvite/internal/redisserver"
)

// Server is a Redis server a test may use.
type Server struct {
	// Addr is host:port.
	Addr string
	// Owned is true when this package started the server (and may flush it).
	Owned bool

	proc *redisserver.Server
}

// URL returns a redis:// URL for the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Client returns a go-redis client closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Options configures StartOwned.
type Options struct {
	// AppendOnly turns AOF on (for restart tests). Default off.
	AppendOnly bool
}

// Start returns a Redis for t: REDIS_ADDR when set, else a fresh redis-server.
func Start(t testing.TB) *Server {
	t.Helper()
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		return &Server{Addr: addr}
	}
	return StartOwned(t, Options{})
}

// StartOwned always starts a private redis-server, ignoring REDIS_ADDR. Tests
// that restart or kill Redis use it.
func StartOwned(t testing.TB, opts Options) *Server {
	t.Helper()
	proc, err := redisserver.Start(redisserver.Options{Dir: t.TempDir(), AppendOnly: opts.AppendOnly})
	if errors.Is(err, redisserver.ErrNotInstalled) {
		msg := "redistest: " + err.Error() + ", and REDIS_ADDR is unset"
		if os.Getenv("MXINVITE_REQUIRE_REDIS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	return &Server{Addr: proc.Addr, Owned: true, proc: proc}
}

// Stop stops a server this package started (a no-op otherwise).
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop()
	}
}

// Restart stops the server and starts it again on the same port and data
// directory (with AOF the data survives). Only for owned servers.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.proc == nil {
		t.Fatal("redistest: Restart on a Redis this test does not own")
	}
	if err := s.proc.Restart(); err != nil {
		t.Fatal(err)
	}
}

// Unique returns a name unique to this test run, for key prefixes and queue
// names on a shared Redis.
func Unique(t testing.TB, base string) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s", base, hex.EncodeToString(b[:]))
}
