package tlsconf

import (
	"crypto/tls"
	"strings"
	"testing"
)

func TestApplyMapsProtocolsAndSuites(t *testing.T) {
	for _, c := range []struct {
		props  map[string]string
		lo, hi uint16
		suites []uint16
		errKey string
	}{
		{props: map[string]string{}, lo: 0, hi: 0},
		{props: map[string]string{"ssl.enabled.protocols": "TLSv1.3"}, lo: tls.VersionTLS13, hi: tls.VersionTLS13},
		{props: map[string]string{"ssl.enabled.protocols": "TLSv1.2, TLSv1.3", "ssl.protocol": "TLSv1.2"}, lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{props: map[string]string{"ssl.protocol": "TLSv1.2"}, lo: tls.VersionTLS12, hi: tls.VersionTLS12},
		{props: map[string]string{"ssl.protocol": "TLS"}, lo: tls.VersionTLS12, hi: tls.VersionTLS13},
		{props: map[string]string{"ssl.cipher.suites": "TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
		{props: map[string]string{"ssl.enabled.protocols": "TLSv1.1"}, errKey: "x.ssl.enabled.protocols"},
		{props: map[string]string{"ssl.protocol": "SSLv3"}, errKey: "x.ssl.protocol"},
		{props: map[string]string{"ssl.cipher.suites": "TLS_RSA_WITH_RC4_128_SHA"}, errKey: "x.ssl.cipher.suites"},
	} {
		var cfg tls.Config
		err := Apply(&cfg, func(k string) string { return c.props[k] }, "x.")
		if c.errKey != "" {
			if err == nil || !strings.Contains(err.Error(), c.errKey) {
				t.Errorf("%v: got %v, want an error naming %s", c.props, err, c.errKey)
			}
			continue
		}
		if err != nil || cfg.MinVersion != c.lo || cfg.MaxVersion != c.hi || len(cfg.CipherSuites) != len(c.suites) {
			t.Errorf("%v: min %x max %x suites %v, %v; want %x %x %v", c.props, cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites, err, c.lo, c.hi, c.suites)
			continue
		}
		for i := range c.suites {
			if cfg.CipherSuites[i] != c.suites[i] {
				t.Errorf("%v: suites %v, want %v", c.props, cfg.CipherSuites, c.suites)
			}
		}
	}
}
