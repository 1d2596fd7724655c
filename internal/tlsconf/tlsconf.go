// Package tlsconf maps the Java TLS settings Kafka and Kafka Connect share (ssl.enabled.protocols,
// ssl.protocol, ssl.cipher.suites) onto crypto/tls, for every TLS endpoint kconnect configures.
package tlsconf

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// versions are the protocol names Go supports; older ones are refused as insecure.
var versions = map[string]uint16{"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

// tls13Suites are the Java names of TLS 1.3's suites, which Go always enables and does not let
// a program choose.
var tls13Suites = map[string]bool{"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true}

// Apply sets cfg's versions and cipher suites from get, which returns a setting's value ("" when
// unset) under its name, e.g. "ssl.cipher.suites"; prefix only names the keys in errors.
// ssl.enabled.protocols lists the versions offered; without it ssl.protocol names the highest,
// with TLS 1.2 the lowest, as the JDK does.
func Apply(cfg *tls.Config, get func(key string) string, prefix string) error {
	key := "ssl.enabled.protocols"
	names := list(get(key))
	if len(names) == 0 {
		key = "ssl.protocol"
		if p := strings.TrimSpace(get(key)); p != "" {
			names = []string{p}
		}
	}
	if len(names) > 0 {
		lo, hi := uint16(0), uint16(0)
		for _, name := range names {
			v, ok := versions[name]
			if !ok && key == "ssl.protocol" && strings.EqualFold(name, "TLS") {
				v, ok = tls.VersionTLS13, true
			}
			if !ok {
				return fmt.Errorf("%s%s=%q: unsupported protocol %q (TLSv1.2 and TLSv1.3 are supported)", prefix, key, get(key), name)
			}
			if lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, v)
		}
		if key == "ssl.protocol" {
			lo = tls.VersionTLS12
		}
		cfg.MinVersion, cfg.MaxVersion = lo, hi
	}
	if suites := list(get("ssl.cipher.suites")); len(suites) > 0 {
		byName := map[string]uint16{}
		for _, s := range tls.CipherSuites() {
			byName[s.Name] = s.ID
		}
		for _, name := range suites {
			if tls13Suites[name] {
				continue
			}
			id, ok := byName[name]
			if !ok {
				return fmt.Errorf("%sssl.cipher.suites: unsupported or insecure cipher suite %q", prefix, name)
			}
			cfg.CipherSuites = append(cfg.CipherSuites, id)
		}
	}
	return nil
}

// list splits a Java list setting: comma-separated, spaces around items ignored (protocol and
// suite names hold none).
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}
