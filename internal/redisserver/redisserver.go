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
	// TLS serves TLS only (the plain port is closed) with these files.
	// Default nil: plain text.
	TLS *TLS
	// ReplicaOf makes the server a replica of this host:port. Default none.
	ReplicaOf string
	// Args are more redis-server arguments ("--maxmemory", "10mb", "--user",
	// "mx on >pw ~* &* +@all"). Default none.
	Args []string
}

// TLS are the PEM files of a TLS server.
type TLS struct {
	// CertFile and KeyFile are the server's certificate and key; the
	// certificate must name 127.0.0.1.
	CertFile, KeyFile string
	// CAFile is the CA that signed the certificate (and client certificates).
	CAFile string
	// AuthClients is redis-server's tls-auth-clients: "no" (default),
	// "optional" or "yes".
	AuthClients string
}

// Server is a running redis-server.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr   string
	opts   Options
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process is gone
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
	ping := &redis.Options{Addr: s.Addr}
	if opts.TLS != nil {
		if ping.TLSConfig, err = opts.TLS.clientConfig(); err != nil {
			return nil, err
		}
	}
	if err := s.launch(exec.Command(bin, opts.args()...), ping); err != nil {
		return nil, err
	}
	return s, nil
}

// args are redis-server's arguments for opts.
func (o Options) args() []string {
	aof := "no"
	if o.AppendOnly {
		aof = "yes"
	}
	port := strconv.Itoa(o.Port)
	args := []string{"--bind", "127.0.0.1", "--port", port, "--dir", o.Dir,
		"--save", "", "--appendonly", aof, "--appendfsync", "always",
		"--daemonize", "no", "--logfile", filepath.Join(o.Dir, "redis.log")}
	if o.TLS != nil {
		auth := o.TLS.AuthClients
		if auth == "" {
			auth = "no"
		}
		args = append(args, "--port", "0", "--tls-port", port,
			"--tls-cert-file", o.TLS.CertFile, "--tls-key-file", o.TLS.KeyFile,
			"--tls-ca-cert-file", o.TLS.CAFile, "--tls-auth-clients", auth, "--tls-replication", "yes")
	}
	if o.ReplicaOf != "" {
		host, p, _ := net.SplitHostPort(o.ReplicaOf)
		args = append(args, "--replicaof", host, p)
	}
	return append(args, o.Args...)
}

// launch starts cmd and waits until the server answers ping (an error
// answer such as NOAUTH counts: the server is up).
func (s *Server) launch(cmd *exec.Cmd, ping *redis.Options) error {
	s.cmd = cmd
	// The server dies with its parent, even on kill -9 of the parent.
	s.cmd.SysProcAttr = KillWithParent()
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("redisserver: start: %w", err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { _ = cmd.Wait(); close(exited) }(s.cmd, s.exited)
	deadline := time.Now().Add(s.opts.StartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			s.cmd = nil
			return fmt.Errorf("redisserver: %s exited at start; log:\n%s", s.Addr, s.LogTail(20))
		default:
		}
		c := redis.NewClient(ping)
		err := c.Ping(context.Background()).Err()
		_ = c.Close()
		var answer redis.Error
		if err == nil || errors.As(err, &answer) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return fmt.Errorf("redisserver: %s did not answer within %s; log:\n%s", s.Addr, s.opts.StartTimeout, s.LogTail(20))
}

// Kill kills the server with SIGKILL, as a crash would: nothing is saved
// and nothing more is replicated. Idempotent.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s). Idempotent.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
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
