package redisserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelOptions configures StartSentinel.
type SentinelOptions struct {
	// Dir holds the Sentinel's config file (which Sentinel rewrites) and
	// log. Required.
	Dir string
	// Port pins the port. Default: a free loopback port.
	Port int
	// Master is the name the primary is monitored under. Required.
	Master string
	// MasterAddr is the primary's host:port. Required.
	MasterAddr string
	// Quorum is how many Sentinels must agree the primary is down.
	// Default 1.
	Quorum int
	// DownAfter is down-after-milliseconds: how long the primary may not
	// answer before it is considered down. Default 1 s (Redis's is 30 s).
	DownAfter time.Duration
	// FailoverTimeout is failover-timeout. Default 3 s (Redis's is 3 min).
	FailoverTimeout time.Duration
	// StartTimeout bounds the wait for the Sentinel to answer. Default 10 s.
	StartTimeout time.Duration
}

// StartSentinel launches redis-server in Sentinel mode monitoring one
// primary, and waits until it answers PING. Its short timeouts make a
// failover take a few seconds, for tests.
func StartSentinel(opts SentinelOptions) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, ErrNotInstalled
	}
	if opts.Dir == "" || opts.Master == "" || opts.MasterAddr == "" {
		return nil, errors.New("redisserver: SentinelOptions.Dir, Master and MasterAddr are required")
	}
	if opts.Port == 0 {
		if opts.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if opts.Quorum == 0 {
		opts.Quorum = 1
	}
	if opts.DownAfter == 0 {
		opts.DownAfter = time.Second
	}
	if opts.FailoverTimeout == 0 {
		opts.FailoverTimeout = 3 * time.Second
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	host, port, err := net.SplitHostPort(opts.MasterAddr)
	if err != nil {
		return nil, fmt.Errorf("redisserver: MasterAddr: %w", err)
	}
	conf := filepath.Join(opts.Dir, "sentinel.conf")
	m := opts.Master
	text := fmt.Sprintf(`bind 127.0.0.1
port %d
dir %s
logfile %s
daemonize no
sentinel monitor %s %s %s %d
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s %d
sentinel parallel-syncs %s 1
`, opts.Port, opts.Dir, filepath.Join(opts.Dir, "redis.log"), m, host, port, opts.Quorum,
		m, opts.DownAfter.Milliseconds(), m, opts.FailoverTimeout.Milliseconds(), m)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, fmt.Errorf("redisserver: sentinel config: %w", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)),
		opts: Options{Dir: opts.Dir, Port: opts.Port, StartTimeout: opts.StartTimeout}}
	if err := s.launch(exec.Command(bin, conf, "--sentinel"), &redis.Options{Addr: s.Addr}); err != nil {
		return nil, err
	}
	return s, nil
}
