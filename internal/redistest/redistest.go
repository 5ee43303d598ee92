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
	// CA is set for a TLS server (StartOwned with Options.TLS): the files
	// a client needs.
	CA *CA

	password string
	proc     *redisserver.Server
}

// URL returns a redis:// URL for the server (rediss:// with TLS).
func (s *Server) URL() string {
	if s.CA != nil {
		return "rediss://" + s.Addr
	}
	return "redis://" + s.Addr
}

// Client returns a go-redis client closed when the test ends. With TLS it
// trusts the test CA and presents its certificate; it authenticates as
// Options.AdminPassword's default user when one is set.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(s.clientOptions(t))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Options configures StartOwned.
type Options struct {
	// AppendOnly turns AOF on (for restart tests). Default off.
	AppendOnly bool
	// TLS serves TLS only, with a fresh test CA (Server.CA). Default off.
	TLS bool
	// AuthClients is tls-auth-clients with TLS: "no" (default), "optional"
	// or "yes".
	AuthClients string
	// AdminPassword sets requirepass: the "default" user's password,
	// which Server.Client uses. Default none.
	AdminPassword string
	// ReplicaOf makes the server a replica of host:port. Default none.
	ReplicaOf string
	// Args are more redis-server arguments (ACL users, maxmemory…).
	Args []string
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
	so := redisserver.Options{Dir: t.TempDir(), AppendOnly: opts.AppendOnly, ReplicaOf: opts.ReplicaOf, Args: opts.Args}
	var ca *CA
	if opts.TLS {
		ca = NewCA(t)
		so.TLS = &redisserver.TLS{CertFile: ca.CertFile, KeyFile: ca.KeyFile, CAFile: ca.CAFile, AuthClients: opts.AuthClients}
	}
	if opts.AdminPassword != "" {
		so.Args = append([]string{"--requirepass", opts.AdminPassword}, so.Args...)
	}
	proc, err := redisserver.Start(so)
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
	return &Server{Addr: proc.Addr, Owned: true, CA: ca, password: opts.AdminPassword, proc: proc}
}

// Kill kills a server this package started with SIGKILL, as a crash
// would (a no-op otherwise).
func (s *Server) Kill() {
	if s.proc != nil {
		s.proc.Kill()
	}
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
