package redisconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mxinvite/mxinvite/internal/redisserver"
	"github.com/mxinvite/mxinvite/internal/redistest"
)

// aclUser is an ACL user with what mxinvite needs: its own keys and
// asynq's, asynq's cancel channel, every command but the dangerous ones.
var aclUser = strings.Fields("mx on >mx-password ~mxinvite:* ~asynq:* &asynq:* +@all -@dangerous")

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConnectExplainsEachFailure(t *testing.T) {
	plain := redistest.StartOwned(t, redistest.Options{AdminPassword: "admin"})
	secure := redistest.StartOwned(t, redistest.Options{TLS: true})
	mutual := redistest.StartOwned(t, redistest.Options{TLS: true, AuthClients: "yes"})
	closed, err := redisserver.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	wrongPW := writeFile(t, "pw", "not-it\n")
	for _, tc := range []struct {
		name  string
		o     Options
		kind  error
		words string
	}{
		{"TLS to a plain server", Options{URL: "rediss://" + plain.Addr}, ErrNotTLS, "answers in plain text on this port: use redis://"},
		{"plain text to a TLS server", Options{URL: "redis://" + secure.Addr}, ErrTLSOnly, "expects TLS: use a rediss:// URL"},
		{"a certificate from an unknown CA", Options{URL: "rediss://" + secure.Addr}, ErrTLS, "certificate is not trusted"},
		{"no client certificate where one is required", Options{URL: "rediss://" + mutual.Addr, TLSCAFile: mutual.CA.CAFile}, ErrUnreachable, "no answer to PING"},
		{"a wrong password", Options{URL: "redis://" + plain.Addr, PasswordFile: wrongPW}, ErrAuth, "refused the credentials"},
		{"no password", Options{URL: plain.Addr}, ErrAuth, "NOAUTH"},
		{"nobody listening", Options{URL: "redis://127.0.0.1:" + itoa(closed)}, ErrUnreachable, "connection refused"},
		{"no Sentinel listening", Options{URL: "redis-sentinel://127.0.0.1:" + itoa(closed) + "/m"}, ErrUnreachable, "connection refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rdb, err := Connect(context.Background(), tc.o)
			if err == nil {
				_ = rdb.Close()
			}
			if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.words) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v; want one line, %v, saying %q", err, tc.kind, tc.words)
			}
		})
	}
}

func TestConnectWithClientCertificateAndACLUser(t *testing.T) {
	r := redistest.StartOwned(t, redistest.Options{TLS: true, AuthClients: "yes", AdminPassword: "admin", Args: append([]string{"--user"}, aclUser...)})
	pw := writeFile(t, "pw", "mx-password\n")
	_, rdb, err := Connect(context.Background(), Options{URL: "rediss://mx@" + r.Addr, PasswordFile: pw,
		TLSCAFile: r.CA.CAFile, TLSCertFile: r.CA.CertFile, TLSKeyFile: r.CA.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx := context.Background()
	if who, err := rdb.Do(ctx, "ACL", "WHOAMI").Text(); err != nil || who != "mx" {
		t.Fatalf("ACL WHOAMI = %q, %v; want mx", who, err)
	}
	if err := rdb.Set(ctx, "other:key", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "NOPERM") {
		t.Fatalf("writing outside the user's keys: %v; want NOPERM (the ACL is in force)", err)
	}
	if err := Explain(rdb.Set(ctx, "other:key", "x", 0).Err()); !errors.Is(err, ErrNoPermission) {
		t.Fatalf("Explain(NOPERM) = %v; want ErrNoPermission", err)
	}
}

// startTLSWithACL starts a TLS-only Redis whose default user needs the
// admin password and with the ACL user mx.
func startTLSWithACL(t *testing.T) *redistest.Server {
	t.Helper()
	return redistest.StartOwned(t, redistest.Options{TLS: true, AdminPassword: "admin", Args: append([]string{"--user"}, aclUser...)})
}
