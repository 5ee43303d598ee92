package redisserver

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// clientConfig is how Start's own PINGs reach a TLS server: trusting
// CAFile and presenting the server's certificate, which the test CA issues
// for client authentication too, so tls-auth-clients yes works.
func (t *TLS) clientConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(t.CAFile)
	if err != nil {
		return nil, fmt.Errorf("redisserver: TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("redisserver: TLS CA %s: no PEM certificate", t.CAFile)
	}
	pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("redisserver: TLS key pair: %w", err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}
