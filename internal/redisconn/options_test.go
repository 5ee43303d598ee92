package redisconn

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
)

func TestConnOptParsesEachForm(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		o    Options
		want asynq.RedisConnOpt
	}{
		{"default", Options{}, asynq.RedisClientOpt{Network: "tcp", Addr: "127.0.0.1:6379", DialTimeout: DefaultDialTimeout}},
		{"bare host:port", Options{URL: "10.0.0.5:6380"},
			asynq.RedisClientOpt{Network: "tcp", Addr: "10.0.0.5:6380", DialTimeout: DefaultDialTimeout}},
		{"bare host", Options{URL: "redis.internal"},
			asynq.RedisClientOpt{Network: "tcp", Addr: "redis.internal:6379", DialTimeout: DefaultDialTimeout}},
		{"user, password, db", Options{URL: "redis://mx:pw@h:1/3", DialTimeout: 7e9},
			asynq.RedisClientOpt{Network: "tcp", Addr: "h:1", Username: "mx", Password: "pw", DB: 3, DialTimeout: 7e9}},
		{"asynq's :password form", Options{URL: "redis://:pw@h"},
			asynq.RedisClientOpt{Network: "tcp", Addr: "h:6379", Password: "pw", DialTimeout: DefaultDialTimeout}},
		{"password file and username flag", Options{URL: "redis://h", Username: "mx", PasswordFile: pwFile},
			asynq.RedisClientOpt{Network: "tcp", Addr: "h:6379", Username: "mx", Password: "s3cret", DialTimeout: DefaultDialTimeout}},
		{"ipv6", Options{URL: "redis://[::1]:7000"},
			asynq.RedisClientOpt{Network: "tcp", Addr: "[::1]:7000", DialTimeout: DefaultDialTimeout}},
		{"unix socket", Options{URL: "unix:///run/redis.sock?db=2"},
			asynq.RedisClientOpt{Network: "unix", Addr: "/run/redis.sock", DB: 2, DialTimeout: DefaultDialTimeout}},
		{"sentinel URL", Options{URL: "redis-sentinel://mx:pw@s1,s2:5000/prod/4"},
			asynq.RedisFailoverClientOpt{MasterName: "prod", SentinelAddrs: []string{"s1:26379", "s2:5000"},
				Username: "mx", Password: "pw", DB: 4, DialTimeout: DefaultDialTimeout}},
		{"asynq's sentinel form", Options{URL: "redis-sentinel://s1:1?master=prod"},
			asynq.RedisFailoverClientOpt{MasterName: "prod", SentinelAddrs: []string{"s1:1"}, DialTimeout: DefaultDialTimeout}},
		{"sentinel fields", Options{Sentinel: Sentinel{Master: "prod", Addrs: []string{"a:1", "b"}, Password: "spw"}, Password: "pw"},
			asynq.RedisFailoverClientOpt{MasterName: "prod", SentinelAddrs: []string{"a:1", "b:26379"},
				SentinelPassword: "spw", Password: "pw", DialTimeout: DefaultDialTimeout}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.o.ConnOpt()
			if err != nil {
				t.Fatal(err)
			}
			if !equalOpt(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func equalOpt(a, b asynq.RedisConnOpt) bool {
	switch x := a.(type) {
	case asynq.RedisClientOpt:
		y, ok := b.(asynq.RedisClientOpt)
		return ok && x.TLSConfig == nil && x == y
	case asynq.RedisFailoverClientOpt:
		y, ok := b.(asynq.RedisFailoverClientOpt)
		return ok && x.TLSConfig == nil && strings.Join(x.SentinelAddrs, ",") == strings.Join(y.SentinelAddrs, ",") &&
			x.MasterName == y.MasterName && x.Username == y.Username && x.Password == y.Password &&
			x.SentinelUsername == y.SentinelUsername && x.SentinelPassword == y.SentinelPassword &&
			x.DB == y.DB && x.DialTimeout == y.DialTimeout
	}
	return false
}

func TestConnOptTurnsTLSOnForRediss(t *testing.T) {
	for _, raw := range []string{"rediss://h:6380", "rediss-sentinel://s1/prod"} {
		opt, err := Options{URL: raw}.ConnOpt()
		if err != nil {
			t.Fatal(err)
		}
		var on bool
		switch o := opt.(type) {
		case asynq.RedisClientOpt:
			on = o.TLSConfig != nil && o.TLSConfig.ServerName == "" && o.TLSConfig.RootCAs == nil
		case asynq.RedisFailoverClientOpt:
			on = o.TLSConfig != nil
		}
		if !on {
			t.Errorf("%s: TLS config %+v; want TLS on, the system roots, the server name taken from each address", raw, opt)
		}
	}
}

func TestConnOptRefusesBadOptionsNamingTheField(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	notPEM := filepath.Join(dir, "ca.pem")
	for _, f := range []string{empty, notPEM} {
		if err := os.WriteFile(f, []byte(map[string]string{empty: "\n", notPEM: "hello"}[f]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		o            Options
		field, words string
	}{
		{Options{URL: "http://h:1"}, "url", `unsupported scheme "http"`},
		{Options{URL: "redis://h:99999"}, "url", "is not host:port"},
		{Options{URL: "redis://h/x"}, "url", `database "x"`},
		{Options{URL: "redis://h?tls=1"}, "url", `unknown parameter "tls"`},
		{Options{URL: "h:1/2"}, "url", "not a Redis URL"},
		{Options{URL: "redis-sentinel://s1"}, "url", "no master name"},
		{Options{URL: "redis://::1"}, "url", "needs brackets"},
		{Options{URL: "redis://:pw@h", PasswordFile: empty}, "url", "password file is given too"},
		{Options{PasswordFile: empty}, "password_file", "the file is empty"},
		{Options{PasswordFile: filepath.Join(dir, "none")}, "password_file", "no such file"},
		{Options{URL: "redis://h", TLSCAFile: notPEM}, "tls_ca_file", "needs TLS"},
		{Options{URL: "rediss://h", TLSCAFile: notPEM}, "tls_ca_file", "no PEM certificate"},
		{Options{URL: "rediss://h", TLSCertFile: notPEM}, "tls_cert_file", "together"},
		{Options{URL: "redis://h", Sentinel: Sentinel{Master: "m", Addrs: []string{"s"}}}, "sentinel", "not both"},
		{Options{Sentinel: Sentinel{Master: "m"}}, "sentinel.addrs", "required"},
		{Options{URL: "redis://h", Sentinel: Sentinel{Password: "x"}}, "sentinel", "not redis-sentinel://"},
	} {
		_, err := tc.o.ConnOpt()
		var oe *OptionError
		if !errors.As(err, &oe) || !errors.Is(err, ErrOptions) || oe.Field != tc.field || !strings.Contains(err.Error(), tc.words) {
			t.Errorf("%+v: error %v; want an OptionError on %s saying %q", tc.o, err, tc.field, tc.words)
		}
	}
}

func TestErrorsNeverShowThePassword(t *testing.T) {
	for _, raw := range []string{"redis://mx:hunter2@h:bad", "redis://mx:hunter2@h/x", "redis-sentinel://:hunter2@s1", "redis://mx:hunter2@h\x7f"} {
		_, err := Options{URL: raw}.ConnOpt()
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error %v; want an error without the password", raw, err)
		}
	}
	if got := Redact("rediss://mx:hunter2@h:1/0"); got != "rediss://mx:(REDACTED)@h:1/0" {
		t.Errorf("Redact = %q", got)
	}
	if got := (Options{URL: "redis://:hunter2@h"}).String(); strings.Contains(got, "hunter2") {
		t.Errorf("String = %q", got)
	}
}
