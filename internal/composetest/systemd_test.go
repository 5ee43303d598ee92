package composetest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// unit reads a systemd unit file: every key's values, in order.
func unit(t *testing.T, name string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range lines(readFile(t, name)) {
		if strings.HasPrefix(l, "[") || strings.HasPrefix(l, ";") {
			continue
		}
		key, value, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: %q is not key=value", name, l)
		}
		out[key] = append(out[key], value)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	u := unit(t, "docs/mxinvite-worker.service")
	one := func(key string) string {
		if len(u[key]) != 1 {
			t.Errorf("%s: %q, want one value", key, u[key])
			return ""
		}
		return u[key][0]
	}
	if one("Type") != "simple" || one("Restart") != "on-failure" {
		t.Errorf("Type %q Restart %q: want simple, on-failure", u["Type"], u["Restart"])
	}
	exec := strings.Fields(one("ExecStart"))
	if len(exec) < 2 || exec[1] != "worker" || !slices.Contains(exec, "--config") {
		t.Errorf("ExecStart %q: want mxinvite worker --config FILE", exec)
	}
	// Secrets come from files, handed over by systemd, never from Environment.
	var creds []string
	for _, c := range u["LoadCredential"] {
		name, file, _ := strings.Cut(c, ":")
		if !strings.HasPrefix(file, "/etc/mxinvite/secrets/") {
			t.Errorf("LoadCredential %q: want a file under /etc/mxinvite/secrets", c)
		}
		creds = append(creds, name)
	}
	for _, want := range []string{"redis_password", "access_token"} {
		if !slices.Contains(creds, want) {
			t.Errorf("no LoadCredential for %s (have %q)", want, creds)
		}
	}
	for _, env := range u["Environment"] {
		if strings.Contains(strings.ToUpper(env), "TOKEN") || strings.Contains(strings.ToUpper(env), "PASSWORD") {
			t.Errorf("Environment=%s: a secret in the environment", env)
		}
	}
	for key, want := range map[string]string{
		"DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
		"PrivateTmp": "yes", "PrivateDevices": "yes", "CapabilityBoundingSet": "", "RestrictSUIDSGID": "yes",
		"RestartPreventExitStatus": "2",
	} {
		if got := one(key); got != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	stop, err := time.ParseDuration(one("TimeoutStopSec"))
	if err != nil || stop <= 30*time.Second {
		t.Errorf("TimeoutStopSec %q must exceed the worker's 30 s shutdown timeout", u["TimeoutStopSec"])
	}
}
