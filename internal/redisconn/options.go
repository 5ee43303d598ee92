package redisconn

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// DefaultURL is the Redis used when Options name none.
const DefaultURL = "redis://127.0.0.1:6379"

// DefaultDialTimeout bounds a connection's TCP connect plus TLS handshake,
// so that TLS against a plain server fails in seconds, not after a
// command's whole timeout.
const DefaultDialTimeout = 2 * time.Second

// Options say how to reach Redis. The command-line flags (--redis,
// --redis-password-file, --redis-ca-file, …) and the config file's redis
// section fill the same fields; the yaml names are the config file's.
type Options struct {
	// URL is the server:
	//
	//	redis://[user[:password]@]host[:port][/db]           port 6379
	//	rediss://…                                           the same over TLS
	//	redis-sentinel://[user[:password]@]host[:port][,host[:port]…]/master[/db]   port 26379
	//	rediss-sentinel://…                                  the same over TLS
	//	unix://[user[:password]@]/path/to/socket[?db=N]
	//
	// A bare host[:port] means redis://host[:port]. The user and password
	// are those of the data nodes (an ACL user); a Sentinel's own are in
	// Sentinel. asynq's "redis-sentinel://…?master=name" form is accepted.
	// Default DefaultURL, unless Sentinel names a master.
	URL string `yaml:"url"`

	// Username is the ACL user; it overrides the URL's. Default: the URL's,
	// else Redis's "default" user.
	Username string `yaml:"username"`
	// PasswordFile holds the password on one line. Default none: the
	// URL's password, if any. Giving both is an error.
	PasswordFile string `yaml:"password_file"`
	// Password is the password itself, for programs; it is never read from
	// the config file. Giving it with PasswordFile or a URL password is an
	// error.
	Password string `yaml:"-"`

	// TLS turns TLS on without a rediss:// URL (for Sentinel given by its
	// fields). Default: on for rediss:// and rediss-sentinel:// only.
	TLS bool `yaml:"tls"`
	// TLSCAFile is a PEM file of the CAs the server's certificate must
	// chain to. Default: the system's roots. Requires TLS.
	TLSCAFile string `yaml:"tls_ca_file"`
	// TLSCertFile and TLSKeyFile are a client certificate and its key, for
	// servers with tls-auth-clients. Default none; give both or neither.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`

	// Sentinel finds the primary through Sentinel, as an alternative to a
	// redis-sentinel:// URL (giving both is an error).
	Sentinel Sentinel `yaml:"sentinel"`

	// DialTimeout bounds a TCP connect plus TLS handshake. Default
	// DefaultDialTimeout.
	DialTimeout time.Duration `yaml:"dial_timeout"`
}

// Sentinel names the Sentinels that watch the primary.
type Sentinel struct {
	// Master is the name the Sentinels monitor the primary under.
	Master string `yaml:"master"`
	// Addrs are the Sentinels, host:port (port default 26379).
	Addrs []string `yaml:"addrs"`
	// Username and PasswordFile (or Password) authenticate to the
	// Sentinels themselves, when they have requirepass or ACLs (Sentinels
	// keep their own users). Default none.
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	Password     string `yaml:"-"`
}

// target is what the options resolve to.
type target struct {
	sentinel  bool
	network   string   // tcp or unix
	addrs     []string // the server, or the Sentinels
	master    string
	db        int
	username  string
	password  string
	tls       *tls.Config
	sUsername string
	sPassword string
	timeout   time.Duration
}

// ConnOpt checks the options, reads their files and returns the asynq
// connection option (an asynq.RedisClientOpt, or an
// asynq.RedisFailoverClientOpt for Sentinel). It contacts nothing. Errors
// are *OptionError (errors.Is ErrOptions).
func (o Options) ConnOpt() (asynq.RedisConnOpt, error) {
	t, err := o.resolve()
	if err != nil {
		return nil, err
	}
	return t.connOpt(), nil
}

func (t target) connOpt() asynq.RedisConnOpt {
	if t.sentinel {
		return asynq.RedisFailoverClientOpt{
			MasterName: t.master, SentinelAddrs: t.addrs,
			SentinelUsername: t.sUsername, SentinelPassword: t.sPassword,
			Username: t.username, Password: t.password, DB: t.db,
			DialTimeout: t.timeout, TLSConfig: t.tls,
		}
	}
	return asynq.RedisClientOpt{
		Network: t.network, Addr: t.addrs[0], Username: t.username, Password: t.password,
		DB: t.db, DialTimeout: t.timeout, TLSConfig: t.tls,
	}
}

// resolve parses the URL, merges the fields and reads the files.
func (o Options) resolve() (target, error) {
	raw := strings.TrimSpace(o.URL)
	fromFields := o.Sentinel.Master != "" || len(o.Sentinel.Addrs) > 0
	if raw == "" && !fromFields {
		raw = DefaultURL
	}
	var t target
	var err error
	urlPassword := false
	switch {
	case raw != "" && fromFields:
		return t, optErr("sentinel", "", "give the Sentinels either in the URL (redis-sentinel://) or in sentinel, not both")
	case fromFields:
		if t, err = sentinelFromFields(o.Sentinel); err != nil {
			return t, err
		}
	default:
		if t, urlPassword, err = parseURL(raw); err != nil {
			return t, err
		}
	}
	if o.Username != "" {
		t.username = o.Username
	}
	if err := o.password(&t, urlPassword); err != nil {
		return t, err
	}
	if err := sentinelAuth(o.Sentinel, &t); err != nil {
		return t, err
	}
	useTLS := o.TLS || t.tls != nil
	if t.network == "unix" && useTLS {
		return t, optErr("tls", "", "TLS over a unix socket is not supported")
	}
	if t.tls, err = o.tlsConfig(useTLS); err != nil {
		return t, err
	}
	t.timeout = o.DialTimeout
	if t.timeout == 0 {
		t.timeout = DefaultDialTimeout
	}
	if t.timeout < 0 {
		return t, optErr("dial_timeout", t.timeout.String(), "must not be negative")
	}
	return t, nil
}

// password applies Password or PasswordFile, refusing two sources.
func (o Options) password(t *target, inURL bool) error {
	switch {
	case o.Password != "" && o.PasswordFile != "":
		return optErr("password_file", o.PasswordFile, "a password is given too; give one")
	case (o.Password != "" || o.PasswordFile != "") && inURL:
		return optErr("url", Redact(o.URL), "holds a password and a password file is given too; give one")
	case o.Password != "":
		t.password = o.Password
	case o.PasswordFile != "":
		pw, err := readSecret("password_file", o.PasswordFile)
		if err != nil {
			return err
		}
		t.password = pw
	}
	return nil
}

// sentinelAuth applies the Sentinels' own credentials.
func sentinelAuth(s Sentinel, t *target) error {
	if (s.Username != "" || s.Password != "" || s.PasswordFile != "") && !t.sentinel {
		return optErr("sentinel", "", "Sentinel credentials are given but the URL is not redis-sentinel://")
	}
	t.sUsername = s.Username
	switch {
	case s.Password != "" && s.PasswordFile != "":
		return optErr("sentinel.password_file", s.PasswordFile, "a password is given too; give one")
	case s.Password != "":
		t.sPassword = s.Password
	case s.PasswordFile != "":
		pw, err := readSecret("sentinel.password_file", s.PasswordFile)
		if err != nil {
			return err
		}
		t.sPassword = pw
	}
	return nil
}

// readSecret reads a file holding one secret on one line.
func readSecret(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", optErr(field, path, "%v", unwrapPath(err))
	}
	s := strings.TrimSpace(string(b))
	switch {
	case s == "":
		return "", optErr(field, path, "the file is empty")
	case strings.ContainsAny(s, "\r\n"):
		return "", optErr(field, path, "the file must hold the password on one line")
	}
	return s, nil
}

// unwrapPath drops the *fs.PathError wrapper, whose path the caller names.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// String describes the options with no secret, for logs.
func (o Options) String() string {
	if o.URL == "" && o.Sentinel.Master != "" {
		return fmt.Sprintf("sentinel master %s at %s", o.Sentinel.Master, strings.Join(o.Sentinel.Addrs, ","))
	}
	if o.URL == "" {
		return DefaultURL
	}
	return Redact(o.URL)
}
