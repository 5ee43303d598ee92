package redisconn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the PING that Connect ends with.
const pingTimeout = 5 * time.Second

// Connect resolves the options, checks that the server (or a Sentinel)
// speaks what was asked for — TLS or plain text — within the dial timeout,
// then makes the client and PINGs it. Every failure is one line saying
// what is wrong and what to do, wrapping one of the Err* kinds. The caller
// closes the client; the option makes more clients (asynq's server does).
func Connect(ctx context.Context, o Options) (asynq.RedisConnOpt, redis.UniversalClient, error) {
	t, err := o.resolve()
	if err != nil {
		return nil, nil, err
	}
	if err := t.probe(ctx); err != nil {
		return nil, nil, err
	}
	opt := t.connOpt()
	rdb, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, nil, fmt.Errorf("redisconn: %T does not make a go-redis client", opt)
	}
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, nil, t.pingError(err)
	}
	return opt, rdb, nil
}

// probe checks the server (or the Sentinels: one answering is enough)
// before go-redis, whose dialer retries a failed TLS handshake several
// times and then reports only a timeout.
func (t target) probe(ctx context.Context) error {
	if t.network != "tcp" {
		return nil
	}
	var first error
	for _, addr := range t.addrs {
		err := probeAddr(ctx, addr, t.tls, t.timeout)
		if err == nil {
			return nil
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// probeAddr makes one connection: a TLS handshake, or a plain PING.
func probeAddr(ctx context.Context, addr string, cfg *tls.Config, timeout time.Duration) error {
	conn, err := dial(ctx, addr, timeout)
	if err != nil {
		return &connError{kind: ErrUnreachable, addr: addr, msg: "cannot connect: " + netReason(err)}
	}
	defer conn.Close()
	if cfg == nil {
		if answersRESP(conn) {
			return nil
		}
		if speaksTLS(ctx, addr, timeout) {
			return &connError{kind: ErrTLSOnly, addr: addr,
				msg: "this port expects TLS: use a rediss:// URL (or the server's plain port)"}
		}
		return &connError{kind: ErrUnreachable, addr: addr, msg: "connected, but no Redis answer to PING"}
	}
	err = tls.Client(conn, withServerName(cfg, addr)).HandshakeContext(ctx)
	if err == nil {
		return nil
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return &connError{kind: ErrTLS, addr: addr,
			msg: fmt.Sprintf("the server's certificate is not trusted (%v): give the CA that signed it as the TLS CA file", verr.Err)}
	}
	if plain, perr := dial(ctx, addr, timeout); perr == nil {
		ok := answersRESP(plain)
		_ = plain.Close()
		if ok {
			return &connError{kind: ErrNotTLS, addr: addr,
				msg: "TLS was asked for (rediss://) but the server answers in plain text on this port: use redis://, or the server's tls-port"}
		}
	}
	return &connError{kind: ErrTLS, addr: addr, msg: fmt.Sprintf("TLS handshake failed within %s: %s", timeout, netReason(err))}
}

// dial connects with the timeout, and sets it as the deadline of what
// follows (the handshake or PING).
func dial(ctx context.Context, addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	return conn, nil
}

// answersRESP sends an inline PING and reports whether the first byte back
// is a RESP reply (+PONG, or an error such as -NOAUTH: still Redis).
func answersRESP(conn net.Conn) bool {
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil {
		return false
	}
	switch b[0] {
	case '+', '-', ':', '$', '*', '%', '>', '_':
		return true
	}
	return false
}

// speaksTLS reports whether addr completes a TLS handshake; used only to
// explain a failure, so the certificate is not checked.
func speaksTLS(ctx context.Context, addr string, timeout time.Duration) bool {
	conn, err := dial(ctx, addr, timeout)
	if err != nil {
		return false
	}
	defer conn.Close()
	// #nosec G402 -- detection only; nothing is sent over this connection.
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec
	return tc.HandshakeContext(ctx) == nil
}

func withServerName(cfg *tls.Config, addr string) *tls.Config {
	if cfg.ServerName != "" {
		return cfg
	}
	c := cfg.Clone()
	c.ServerName, _, _ = net.SplitHostPort(addr)
	return c
}

// netReason shortens a net error to its cause ("connection refused",
// "i/o timeout").
func netReason(err error) string {
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err.Error()
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	return err.Error()
}

// pingError explains a failed PING.
func (t target) pingError(err error) error {
	where := t.addrs[0]
	if t.sentinel {
		where = "master " + t.master
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		switch {
		case redis.HasErrorPrefix(rerr, "WRONGPASS"), redis.HasErrorPrefix(rerr, "NOAUTH"),
			redis.HasErrorPrefix(rerr, "ERR AUTH"), redis.HasErrorPrefix(rerr, "ERR invalid password"):
			return &connError{kind: ErrAuth, addr: where, msg: "Redis refused the credentials: " + rerr.Error() +
				" (check the user in the URL and the password file)"}
		case redis.HasErrorPrefix(rerr, "NOPERM"):
			return &connError{kind: ErrNoPermission, addr: where, msg: rerr.Error()}
		}
	}
	return &connError{kind: ErrUnreachable, addr: where, msg: "no answer to PING: " + netReason(err)}
}
