package redisconn

import (
	"errors"
	"fmt"
)

// Errors Connect and Options.ConnOpt wrap, for errors.Is.
var (
	// ErrOptions: the options themselves are wrong (a bad URL, an
	// unreadable file); nothing was contacted. Always an *OptionError.
	ErrOptions = errors.New("bad Redis options")
	// ErrUnreachable: no TCP connection could be made.
	ErrUnreachable = errors.New("cannot reach Redis")
	// ErrNotTLS: TLS was asked for, and the server answered in plain text.
	ErrNotTLS = errors.New("the server does not speak TLS on this port")
	// ErrTLSOnly: plain text was used, and the server wants TLS.
	ErrTLSOnly = errors.New("the server speaks TLS on this port")
	// ErrTLS: the TLS handshake failed (an untrusted certificate, a
	// handshake that did not finish within the dial timeout).
	ErrTLS = errors.New("TLS handshake failed")
	// ErrAuth: Redis refused the user or password (WRONGPASS, NOAUTH).
	ErrAuth = errors.New("Redis refused the credentials")
	// ErrNoPermission: the ACL user may not run a command mxinvite needs.
	ErrNoPermission = errors.New("the Redis user lacks a permission")
	// ErrOutOfMemory: Redis refused a write because maxmemory is reached
	// and its policy evicts nothing (noeviction), see Explain.
	ErrOutOfMemory = errors.New("Redis is out of memory")
)

// OptionError names the option that is wrong. Field is the option's name
// in the config file (url, password_file, tls_ca_file, …); the command line
// maps it to its flag.
type OptionError struct {
	Field  string
	Value  string // redacted: never a password
	Reason string
}

func (e *OptionError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason)
}

// Is makes every OptionError match ErrOptions.
func (e *OptionError) Is(target error) bool { return target == ErrOptions }

func optErr(field, value, format string, args ...any) error {
	return &OptionError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// connError is a failure to talk to Redis at Addr, of a kind (one of the
// Err* above), with the reason and what to do.
type connError struct {
	kind error
	addr string
	msg  string
}

func (e *connError) Error() string { return fmt.Sprintf("%s (%s)", e.msg, e.addr) }
func (e *connError) Unwrap() error { return e.kind }
