package main

import (
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/redistest"
)

func TestRedisFlags(t *testing.T) {
	r := redistest.Start(t)
	ca := writeTemp(t, "not a certificate")
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		words string // in stderr
	}{
		{"host:port is redis://host:port", []string{"--redis", r.Addr}, 0, ""},
		{"TLS against a plain server", []string{"--redis", "rediss://" + r.Addr}, exitUsage,
			"TLS was asked for (rediss://) but the server answers in plain text on this port: use redis://"},
		{"not a URL", []string{"--redis", "127.0.0.1:6379/0"}, exitUsage, "want redis://host:port[/db]"},
		{"a CA file without TLS", []string{"--redis", "redis://" + r.Addr, "--redis-ca-file", ca}, exitUsage,
			"--redis-ca-file \"" + ca + "\": needs TLS: use a rediss://"},
		{"a password twice", []string{"--redis", "redis://:pw@" + r.Addr, "--redis-password-file", ca}, exitUsage,
			"--redis \"redis://:(REDACTED)@" + r.Addr + "\": holds a password and a password file is given too"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mxinvite(t, append([]string{"schedule", "list"}, tc.args...)...)
			lines := strings.Count(strings.TrimSpace(res.stderr), "\n") + 1
			if res.code != tc.code || (tc.words != "" && (!strings.Contains(res.stderr, tc.words) || lines != 1)) {
				t.Fatalf("exit %d, stderr %q; want exit %d and one line saying %q", res.code, res.stderr, tc.code, tc.words)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	e := &cliEnv{t: t, dir: t.TempDir()}
	return e.file("file", content)
}
