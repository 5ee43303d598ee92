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
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a Redis server a test may use.
type Server struct {
	// Addr is host:port.
	Addr string
	// Owned is true when this package started the server (and may flush it).
	Owned bool

	cmd *exec.Cmd
	dir string
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

// Options configures Start.
type Options struct {
	// AppendOnly turns AOF on (for restart tests). Default off.
	AppendOnly bool
	// Dir is the data directory; default a fresh t.TempDir().
	Dir string
	// Port pins the port (restart tests reuse it). Default a free port.
	Port int
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
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "redistest: redis-server not on PATH and REDIS_ADDR unset (install redis-server)"
		if os.Getenv("MXINVITE_REQUIRE_REDIS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Port == 0 {
		opts.Port = freePort(t)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)), Owned: true, dir: opts.Dir}
	s.start(t, bin, opts)
	t.Cleanup(func() { s.Stop() })
	return s
}

func (s *Server) start(t testing.TB, bin string, opts Options) {
	t.Helper()
	aof := "no"
	if opts.AppendOnly {
		aof = "yes"
	}
	port := strconv.Itoa(opts.Port)
	s.cmd = exec.Command(bin,
		"--bind", "127.0.0.1", "--port", port, "--dir", opts.Dir,
		"--save", "", "--appendonly", aof, "--appendfsync", "always",
		"--daemonize", "no", "--logfile", filepath.Join(opts.Dir, "redis.log"))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		err := c.Ping(context.Background()).Err()
		_ = c.Close()
		if err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	t.Fatalf("redistest: redis-server on %s did not answer within 10s; log:\n%s", s.Addr, s.logTail())
}

// Stop kills the server started by this package (a no-op otherwise).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = s.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and data
// directory (with AOF the data survives). Only for owned servers.
func (s *Server) Restart(t testing.TB, opts Options) {
	t.Helper()
	if !s.Owned {
		t.Fatal("redistest: Restart on a Redis this test does not own")
	}
	s.Stop()
	_, port, _ := net.SplitHostPort(s.Addr)
	opts.Port, _ = strconv.Atoi(port)
	opts.Dir = s.dir
	bin, _ := exec.LookPath("redis-server")
	s.start(t, bin, opts)
}

func (s *Server) logTail() string {
	f, err := os.Open(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 20 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// Unique returns a name unique to this test run, for key prefixes and queue
// names on a shared Redis.
func Unique(t testing.TB, base string) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%s", base, hex.EncodeToString(b[:]))
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
