package redisconn

import (
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

const (
	defaultPort         = "6379"
	defaultSentinelPort = "26379"
	urlHint             = "want redis://host:port[/db], rediss://… for TLS, redis-sentinel://host:port,host:port/master or unix:///path"
)

// parseURL reads Options.URL. It reports whether the URL held a password.
func parseURL(raw string) (target, bool, error) {
	var t target
	shown := Redact(raw)
	if !strings.Contains(raw, "://") {
		// host[:port], the form redis-cli -h/-p users type.
		if strings.ContainsAny(raw, "/@?# ") {
			return t, false, optErr("url", shown, "not a Redis URL; %s", urlHint)
		}
		raw = "redis://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password included
		}
		return t, false, optErr("url", shown, "%v; %s", err, urlHint)
	}
	if u.Fragment != "" || u.Opaque != "" {
		return t, false, optErr("url", shown, "not a Redis URL; %s", urlHint)
	}
	t.username = u.User.Username()
	pw, hasPW := u.User.Password()
	t.password = pw
	t.network = "tcp"
	switch u.Scheme {
	case "redis", "rediss":
		err = t.server(u, shown)
	case "redis-sentinel", "rediss-sentinel":
		err = t.sentinels(u, shown)
	case "unix", "redis-socket":
		err = t.socket(u, shown)
	default:
		return t, false, optErr("url", shown, "unsupported scheme %q; %s", u.Scheme, urlHint)
	}
	if err != nil {
		return t, false, err
	}
	if strings.HasPrefix(u.Scheme, "rediss") {
		// ServerName stays empty: crypto/tls takes it from each address
		// dialled, which for Sentinel is whichever node is the primary.
		t.tls = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return t, hasPW, nil
}

func (t *target) server(u *url.URL, shown string) error {
	if err := onlyParams(u, shown); err != nil {
		return err
	}
	addr, err := hostPort(u.Host, defaultPort, shown)
	if err != nil {
		return err
	}
	t.addrs = []string{addr}
	path := strings.Trim(u.Path, "/")
	if path != "" {
		if t.db, err = parseDB(path, shown); err != nil {
			return err
		}
	}
	return nil
}

func (t *target) sentinels(u *url.URL, shown string) error {
	if err := onlyParams(u, shown, "master"); err != nil {
		return err
	}
	t.sentinel = true
	for h := range strings.SplitSeq(u.Host, ",") {
		addr, err := hostPort(h, defaultSentinelPort, shown)
		if err != nil {
			return err
		}
		t.addrs = append(t.addrs, addr)
	}
	var parts []string
	if path := strings.Trim(u.Path, "/"); path != "" {
		parts = strings.Split(path, "/")
	}
	if m := u.Query().Get("master"); m != "" { // asynq's form
		parts = append([]string{m}, parts...)
	}
	switch {
	case len(parts) == 0 || parts[0] == "":
		return optErr("url", shown, "no master name: want redis-sentinel://host:port[,host:port…]/master[/db]")
	case len(parts) > 2:
		return optErr("url", shown, "too many path parts: want /master[/db]")
	}
	t.master = parts[0]
	if len(parts) == 2 {
		var err error
		t.db, err = parseDB(parts[1], shown)
		return err
	}
	return nil
}

func (t *target) socket(u *url.URL, shown string) error {
	if err := onlyParams(u, shown, "db"); err != nil {
		return err
	}
	t.network = "unix"
	if u.Path == "" {
		return optErr("url", shown, "no socket path: want unix:///path/to/redis.sock")
	}
	t.addrs = []string{u.Path}
	if db := u.Query().Get("db"); db != "" {
		var err error
		t.db, err = parseDB(db, shown)
		return err
	}
	return nil
}

// sentinelFromFields builds a Sentinel target from the config's fields.
func sentinelFromFields(s Sentinel) (target, error) {
	t := target{sentinel: true, network: "tcp", master: s.Master}
	if s.Master == "" {
		return t, optErr("sentinel.master", "", "required with sentinel.addrs")
	}
	if len(s.Addrs) == 0 {
		return t, optErr("sentinel.addrs", "", "required with sentinel.master: at least one host:port")
	}
	for _, a := range s.Addrs {
		addr, err := hostPort(strings.TrimSpace(a), defaultSentinelPort, a)
		if err != nil {
			var oe *OptionError
			if errors.As(err, &oe) {
				oe.Field = "sentinel.addrs"
			}
			return t, err
		}
		t.addrs = append(t.addrs, addr)
	}
	return t, nil
}

// hostPort checks host[:port], adding the default port.
func hostPort(hp, port, shown string) (string, error) {
	if hp == "" {
		return "", optErr("url", shown, "no host; %s", urlHint)
	}
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		// No port (or a bare IPv6 address, which needs brackets anyway).
		host, p = strings.Trim(hp, "[]"), port
		if strings.Contains(host, ":") && !strings.HasPrefix(hp, "[") {
			return "", optErr("url", shown, "an IPv6 address needs brackets: [%s]:%s", host, port)
		}
	}
	n, err := strconv.Atoi(p)
	if host == "" || err != nil || n < 1 || n > 65535 {
		return "", optErr("url", shown, "%q is not host:port", hp)
	}
	return net.JoinHostPort(host, p), nil
}

func parseDB(s, shown string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, optErr("url", shown, "database %q is not a number ≥ 0", s)
	}
	return n, nil
}

// onlyParams refuses query parameters other than allowed: a typo must not
// be silently ignored.
func onlyParams(u *url.URL, shown string, allowed ...string) error {
	for k := range u.Query() {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return optErr("url", shown, "unknown parameter %q", k)
		}
	}
	return nil
}

// Redact hides the password of a Redis URL (the user stays, since it helps
// to see which ACL user is meant).
func Redact(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	user, _, hasPW := strings.Cut(rest[:at], ":")
	if !hasPW {
		return raw
	}
	return scheme + "://" + user + ":(REDACTED)@" + rest[at+1:]
}
