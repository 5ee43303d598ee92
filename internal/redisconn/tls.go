package redisconn

import (
	"crypto/tls"
	"crypto/x509"
	"os"
)

// tlsConfig builds the TLS configuration, or nil when TLS is off.
func (o Options) tlsConfig(on bool) (*tls.Config, error) {
	if !on {
		for field, v := range map[string]string{"tls_ca_file": o.TLSCAFile, "tls_cert_file": o.TLSCertFile, "tls_key_file": o.TLSKeyFile} {
			if v != "" {
				return nil, optErr(field, v, "needs TLS: use a rediss:// (or rediss-sentinel://) URL")
			}
		}
		return nil, nil
	}
	// ServerName stays empty: crypto/tls checks the certificate against the
	// host dialled, which with Sentinel is whichever node is the primary.
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.TLSCAFile != "" {
		pem, err := os.ReadFile(o.TLSCAFile)
		if err != nil {
			return nil, optErr("tls_ca_file", o.TLSCAFile, "%v", unwrapPath(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, optErr("tls_ca_file", o.TLSCAFile, "no PEM certificate in the file")
		}
		cfg.RootCAs = pool
	}
	switch {
	case (o.TLSCertFile == "") != (o.TLSKeyFile == ""):
		return nil, optErr("tls_cert_file", o.TLSCertFile+o.TLSKeyFile, "give the client certificate and its key together (tls_cert_file, tls_key_file)")
	case o.TLSCertFile != "":
		pair, err := tls.LoadX509KeyPair(o.TLSCertFile, o.TLSKeyFile)
		if err != nil {
			return nil, optErr("tls_cert_file", o.TLSCertFile, "%v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
