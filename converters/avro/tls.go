package avro

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// newTLSConfig builds the registry client's TLS settings from the schema.registry.ssl.* keys. Java
// clients usually point at JKS or PKCS12 stores; kconnect reads PEM (files or inline text), which
// every such store converts to with keytool or openssl. nil means Go's defaults (system roots).
func newTLSConfig(s settings) (*tls.Config, error) {
	get := func(k string) string { return strings.TrimSpace(s.tls[k]) }
	if len(s.tls) == 0 {
		return nil, nil
	}
	for _, k := range []string{sslTruststoreType, sslKeystoreType} {
		if t := get(k); t != "" && !strings.EqualFold(t, "PEM") {
			return nil, sslErr(k, fmt.Sprintf("kconnect reads PEM stores only, not %s; convert the store to PEM", t))
		}
	}
	if s.keyPassword != "" {
		return nil, sslErr(sslKeyPassword, "kconnect reads unencrypted PEM keys only")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	roots, err := pemText(get(sslTruststoreCertificates), get(sslTruststoreLocation), sslTruststoreLocation)
	if err != nil {
		return nil, err
	}
	if roots != "" {
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM([]byte(roots)) {
			return nil, sslErr(sslTruststoreLocation, "no PEM certificate found")
		}
	}
	chain, err := pemText(get(sslKeystoreCertChain), get(sslKeystoreLocation), sslKeystoreLocation)
	if err != nil {
		return nil, err
	}
	key := get(sslKeystoreKey)
	if key == "" {
		key = chain // a keystore file holds both
	}
	if chain != "" {
		cert, err := tls.X509KeyPair([]byte(chain), []byte(key))
		if err != nil {
			return nil, sslErr(sslKeystoreLocation, err.Error())
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if !s.endpointCheckOn {
		// Check the chain but not the host name, as Java does with an empty algorithm.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the registry sent no certificate")
			}
			opts := x509.VerifyOptions{Roots: cfg.RootCAs, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	return cfg, nil
}

// pemText returns inline PEM text, or else the contents of the file at path.
func pemText(inline, path, key string) (string, error) {
	if inline != "" || path == "" {
		return inline, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", sslErr(key, err.Error())
	}
	return string(b), nil
}

func sslErr(key, msg string) error {
	return &connect.FieldError{Name: SSLPrefix + key, Msg: fmt.Sprintf("Invalid value for configuration %s: %s", SSLPrefix+key, msg)}
}
