package redistest

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// clientOptions are go-redis options reaching the server as its admin.
func (s *Server) clientOptions(t testing.TB) *redis.Options {
	t.Helper()
	o := &redis.Options{Addr: s.Addr, Password: s.password}
	if s.CA != nil {
		o.TLSConfig = s.CA.ClientConfig(t)
	}
	return o
}

// ClientConfig trusts the CA and presents its certificate.
func (ca *CA) ClientConfig(t testing.TB) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(ca.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	pair, err := tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}
