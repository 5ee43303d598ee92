// Package redisserver starts and stops a private redis-server process on a
// loopback port, for tests (through redistest), benchmarks and tools that
// must never touch a Redis they do not own.
package redisserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotInstalled means redis-server is not on PATH.
var ErrNotInstalled = errors.New("redis-server not found on PATH (apt-get install redis-server)")

// Options configures Start.
type Options struct {
	// Dir is the data directory. Required.
	Dir string
	// Port pins the port (restarts reuse it). Default: a free loopback port.
	Port int
	// AppendOnly turns AOF on, fsync always. Default off.
	AppendOnly bool
	// StartTimeout bounds the wait for the server to answer. Default 10 s.
	StartTimeout time.Duration
}

// Server is a running redis-server.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	opts Options
	cmd  *exec.Cmd
}

// Start launches redis-server and waits until it answers PING.
func Start(opts Options) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	if opts.Dir == "" {
		return nil, errors.New("redisserver: Options.Dir is required")
	}
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)), opts: opts}
	aof := "no"
	if opts.AppendOnly {
		aof = "yes"
	}
	s.cmd = exec.Command(bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(opts.Port), "--dir", opts.Dir,
		"--save", "", "--appendonly", aof, "--appendfsync", "always",
		"--daemonize", "no", "--logfile", filepath.Join(opts.Dir, "redis.log"))
	// The server dies with its parent, even on kill -9 of the parent.
	s.cmd.SysProcAttr = KillWithParent()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("redisserver: start: %w", err)
	}
	deadline := time.Now().Add(opts.StartTimeout)
	for time.Now().Before(deadline) {
		c := redis.NewClient(&redis.Options{Addr: s.Addr})
		err = c.Ping(context.Background()).Err()
		_ = c.Close()
		if err == nil {
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("redisserver: %s did not answer within %s; log:\n%s", s.Addr, opts.StartTimeout, s.LogTail(20))
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s). Idempotent.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// Restart stops the server and starts it again on the same port and data
// directory; with AppendOnly the data survives.
func (s *Server) Restart() error {
	s.Stop()
	_, port, _ := net.SplitHostPort(s.Addr)
	opts := s.opts
	opts.Port, _ = strconv.Atoi(port)
	ns, err := Start(opts)
	if err != nil {
		return err
	}
	*s = *ns
	return nil
}

// LogTail returns the last n lines of the server's log.
func (s *Server) LogTail(n int) string {
	f, err := os.Open(filepath.Join(s.opts.Dir, "redis.log"))
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// FreePort returns a currently free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redisserver: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
