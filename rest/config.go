package rest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/internal/logging"
)

// Defaults of Config's zero values.
const (
	DefaultListener           = "http://:8083"
	DefaultMaxBodyBytes       = 4 << 20
	DefaultRequestTimeout     = 90 * time.Second
	DefaultHealthCheckTimeout = 10 * time.Second
)

// Worker configuration keys read by ConfigFromWorker. The keys without a comment are upstream's.
const (
	KeyListeners          = "listeners"
	KeyAdminListeners     = "admin.listeners"
	KeyAdvertisedHostName = "rest.advertised.host.name"
	KeyAdvertisedPort     = "rest.advertised.port"
	KeyAdvertisedListener = "rest.advertised.listener"
	KeyAllowOrigin        = "access.control.allow.origin"
	KeyAllowMethods       = "access.control.allow.methods"
	KeyExtensionClasses   = "rest.extension.classes"
	KeyTopicTracking      = "topic.tracking.enable"
	KeyTopicTrackingReset = "topic.tracking.allow.reset"
	// KeyBasicAuthFile is kconnect's replacement for the JAAS setup of upstream's
	// BasicAuthSecurityRestExtension: a properties file with one "user: password" line per user.
	KeyBasicAuthFile = "rest.basic.auth.credentials.file"
	// KeyMaxBodyBytes limits request bodies (kconnect only).
	KeyMaxBodyBytes = "rest.request.body.max.bytes"
	// KeyMetricsListener is an http listener serving only GET /metrics (kconnect only).
	KeyMetricsListener = "metrics.listener"
)

// basicAuthExtension is upstream's basic-auth REST extension, which KeyBasicAuthFile replaces.
const basicAuthExtension = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"

// Config configures the REST server. The zero value serves plain HTTP on port 8083 like upstream.
type Config struct {
	// Listeners are URLs such as "http://:8083" or "https://0.0.0.0:8443"; an empty host binds
	// every interface and port 0 picks a free port. Empty means DefaultListener.
	Listeners []string
	// AdminListeners serve /admin/* separately from Listeners. nil serves them on Listeners; an
	// empty, non-nil slice disables them, as upstream's admin.listeners.
	AdminListeners []string
	// AdvertisedHostName, AdvertisedPort and AdvertisedListener ("http" or "https") override
	// the parts of AdvertisedURL; zero values derive them from the listeners.
	AdvertisedHostName string
	AdvertisedPort     int
	AdvertisedListener string
	// AllowedOrigins enables CORS for these comma-separated origins ("*" and "*" wildcards
	// allowed); AllowedMethods lists the methods allowed cross-origin (default GET,POST,HEAD).
	AllowedOrigins string
	AllowedMethods string
	// BasicAuthFile, if set, is a properties file of "user: password" lines; every request
	// must then carry HTTP basic credentials listed in it.
	BasicAuthFile string
	// TLS serves the https listeners; AdminTLS the https admin listeners.
	TLS      *tls.Config
	AdminTLS *tls.Config
	// MaxBodyBytes limits request bodies (0 means DefaultMaxBodyBytes); larger bodies get 413.
	MaxBodyBytes int64
	// RequestTimeout bounds each herder call (0 means DefaultRequestTimeout); HealthCheckTimeout
	// bounds the health check (0 means DefaultHealthCheckTimeout).
	RequestTimeout     time.Duration
	HealthCheckTimeout time.Duration
	// DisableTopicTracking and DisableTopicTrackingReset answer the topics endpoints with 403,
	// as upstream's topic.tracking.enable=false and topic.tracking.allow.reset=false.
	DisableTopicTracking      bool
	DisableTopicTrackingReset bool
	// Version and Commit are reported by GET /; empty values come from the binary's build info.
	Version string
	Commit  string
	// Loggers backs /admin/loggers; nil answers those endpoints with 404 as if they were disabled.
	Loggers *logging.Loggers
	// Metrics serves GET /metrics on the main listeners and on MetricsListener; nil serves
	// neither.
	Metrics http.Handler
	// MetricsListener is an http URL such as "http://:9404" for a listener serving only
	// GET /metrics, without authentication, for a Prometheus server; empty means none.
	MetricsListener string
}

// ConfigFromWorker reads the REST settings from a worker configuration. See the package
// documentation for the keys, including the TLS keys for PEM certificates.
func ConfigFromWorker(props map[string]string) (Config, error) {
	var c Config
	if v, ok := props[KeyListeners]; ok {
		c.Listeners = splitList(v)
		if len(c.Listeners) == 0 {
			return c, fmt.Errorf("%s: Invalid value [] for configuration listeners: Empty list", KeyListeners)
		}
	}
	if c.Listeners == nil {
		// Kafka 3.x workers without listeners used rest.host.name and rest.port (removed in 4.0);
		// honouring them keeps such a worker on the port its users expect.
		host, hasHost := props["rest.host.name"]
		port, hasPort := props["rest.port"]
		if hasHost || hasPort {
			if !hasPort {
				port = "8083"
			}
			c.Listeners = []string{"http://" + strings.TrimSpace(host) + ":" + strings.TrimSpace(port)}
		}
	}
	if v, ok := props[KeyAdminListeners]; ok {
		c.AdminListeners = splitList(v)
		if c.AdminListeners == nil {
			c.AdminListeners = []string{}
		}
	}
	for _, l := range append(append([]string(nil), c.Listeners...), c.AdminListeners...) {
		if _, err := parseListener(l); err != nil {
			return c, err
		}
	}
	c.AdvertisedHostName = strings.TrimSpace(props[KeyAdvertisedHostName])
	if v := strings.TrimSpace(props[KeyAdvertisedPort]); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return c, fmt.Errorf("%s: invalid port %q", KeyAdvertisedPort, v)
		}
		c.AdvertisedPort = p
	}
	if v := strings.TrimSpace(props[KeyAdvertisedListener]); v != "" {
		v = strings.ToLower(v)
		if v != "http" && v != "https" {
			return c, fmt.Errorf("%s: %q must be http or https", KeyAdvertisedListener, v)
		}
		c.AdvertisedListener = v
	}
	c.AllowedOrigins = strings.TrimSpace(props[KeyAllowOrigin])
	c.AllowedMethods = strings.TrimSpace(props[KeyAllowMethods])
	c.BasicAuthFile = strings.TrimSpace(props[KeyBasicAuthFile])
	for _, ext := range splitList(props[KeyExtensionClasses]) {
		if ext != basicAuthExtension {
			return c, fmt.Errorf("%s: REST extension %s is not supported by kconnect", KeyExtensionClasses, ext)
		}
		if c.BasicAuthFile == "" {
			return c, fmt.Errorf("%s: %s needs JAAS, which kconnect does not read; set %s to the credentials file instead",
				KeyExtensionClasses, ext, KeyBasicAuthFile)
		}
	}
	if v := strings.TrimSpace(props[KeyMaxBodyBytes]); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("%s: %q is not a positive number of bytes", KeyMaxBodyBytes, v)
		}
		c.MaxBodyBytes = n
	}
	if v := strings.TrimSpace(props[KeyMetricsListener]); v != "" {
		spec, err := parseListener(v)
		if err != nil {
			return c, fmt.Errorf("%s: %w", KeyMetricsListener, err)
		}
		if spec.scheme != "http" {
			return c, fmt.Errorf("%s: %q must be an http:// listener", KeyMetricsListener, v)
		}
		c.MetricsListener = v
	}
	var err error
	if c.DisableTopicTracking, err = disabled(props, KeyTopicTracking); err != nil {
		return c, err
	}
	if c.DisableTopicTrackingReset, err = disabled(props, KeyTopicTrackingReset); err != nil {
		return c, err
	}
	if hasHTTPS(c.Listeners) {
		if c.TLS, err = tlsFromWorker(props, "listeners.https."); err != nil {
			return c, err
		}
	}
	if hasHTTPS(c.AdminListeners) {
		if c.AdminTLS, err = tlsFromWorker(props, "admin.listeners.https."); err != nil {
			return c, err
		}
	}
	return c, nil
}

func disabled(props map[string]string, key string) (bool, error) {
	v, ok := props[key]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		return false, nil
	case "false":
		return true, nil
	}
	return false, fmt.Errorf("%s: %q must be true or false", key, v)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func hasHTTPS(listeners []string) bool {
	for _, l := range listeners {
		if spec, err := parseListener(l); err == nil && spec.scheme == "https" {
			return true
		}
	}
	return false
}

// listenerPattern is upstream's: protocol://host:port, the host optionally in brackets.
var listenerPattern = regexp.MustCompile(`^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$`)

type listenerSpec struct {
	raw    string
	scheme string
	host   string
	port   int
}

func (l listenerSpec) addr() string { return net.JoinHostPort(l.host, strconv.Itoa(l.port)) }

func parseListener(s string) (listenerSpec, error) {
	m := listenerPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return listenerSpec{}, fmt.Errorf("listener %q doesn't have the right format (protocol://hostname:port)", s)
	}
	scheme := strings.ToLower(m[1])
	if scheme != "http" && scheme != "https" {
		return listenerSpec{}, fmt.Errorf("listener %q: protocol must be either \"http\" or \"https\"", s)
	}
	port, err := strconv.Atoi(m[3])
	if err != nil || port < 0 || port > 65535 {
		return listenerSpec{}, fmt.Errorf("listener %q: invalid port %s", s, m[3])
	}
	return listenerSpec{raw: s, scheme: scheme, host: m[2], port: port}, nil
}

// tlsFromWorker builds the TLS configuration of https listeners from the ssl.* keys under
// prefix, falling back to the worker's top-level ssl.* keys when none is given under prefix
// (upstream's valuesWithPrefixAllOrNothing).
func tlsFromWorker(props map[string]string, prefix string) (*tls.Config, error) {
	hasPrefixed, hasTop := false, false
	for k := range props {
		hasPrefixed = hasPrefixed || strings.HasPrefix(k, prefix)
		hasTop = hasTop || strings.HasPrefix(k, "ssl.")
	}
	p := prefix
	if !hasPrefixed && hasTop {
		p = ""
	}
	get := func(k string) string { return strings.TrimSpace(props[p+k]) }

	cert, err := loadKeyPair(p, get)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	if protos := splitList(get("ssl.enabled.protocols")); len(protos) > 0 {
		cfg.MinVersion, cfg.MaxVersion = 0, 0
		for _, proto := range protos {
			v, ok := map[string]uint16{"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}[proto]
			if !ok {
				return nil, fmt.Errorf("%sssl.enabled.protocols: unsupported protocol %q (use TLSv1.2, TLSv1.3)", p, proto)
			}
			if cfg.MinVersion == 0 || v < cfg.MinVersion {
				cfg.MinVersion = v
			}
			cfg.MaxVersion = max(cfg.MaxVersion, v)
		}
	}
	if suites := splitList(get("ssl.cipher.suites")); len(suites) > 0 {
		byName := map[string]uint16{}
		for _, s := range tls.CipherSuites() {
			byName[s.Name] = s.ID
		}
		for _, name := range suites {
			id, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("%sssl.cipher.suites: unsupported or insecure cipher suite %q", p, name)
			}
			cfg.CipherSuites = append(cfg.CipherSuites, id)
		}
	}

	var pool *x509.CertPool
	if loc := get("ssl.truststore.location"); loc != "" {
		if err := checkPEMType(p, "ssl.truststore.type", get("ssl.truststore.type")); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("%sssl.truststore.location: %w", p, err)
		}
		if pool, err = certPool(data); err != nil {
			return nil, fmt.Errorf("%sssl.truststore.location %s: %w", p, loc, err)
		}
	} else if inline := get("ssl.truststore.certificates"); inline != "" {
		if pool, err = certPool([]byte(inline)); err != nil {
			return nil, fmt.Errorf("%sssl.truststore.certificates: %w", p, err)
		}
	}
	cfg.ClientCAs = pool
	switch auth := strings.ToLower(get("ssl.client.auth")); auth {
	case "", "none":
	case "requested":
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case "required":
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("%sssl.client.auth: %q must be none, requested or required", p, auth)
	}
	if cfg.ClientAuth != tls.NoClientCert && pool == nil {
		return nil, fmt.Errorf("%sssl.client.auth=%s needs %sssl.truststore.location with the CA certificates of the clients", p, get("ssl.client.auth"), p)
	}
	return cfg, nil
}

func checkPEMType(prefix, key, typ string) error {
	if typ != "" && !strings.EqualFold(typ, "PEM") {
		return fmt.Errorf("%s%s: %s stores are not supported; kconnect reads PEM (convert with keytool and openssl, then set %s%s=PEM)", prefix, key, typ, prefix, key)
	}
	return nil
}

// loadKeyPair reads the server certificate and key from, in order of preference: separate
// ssl.certificate.location and ssl.key.location files (kconnect), a PEM keystore at
// ssl.keystore.location holding both, or inline ssl.keystore.certificate.chain and
// ssl.keystore.key (upstream's PEM keystore keys).
func loadKeyPair(p string, get func(string) string) (tls.Certificate, error) {
	certLoc, keyLoc := get("ssl.certificate.location"), get("ssl.key.location")
	switch {
	case certLoc != "" || keyLoc != "":
		if certLoc == "" || keyLoc == "" {
			return tls.Certificate{}, fmt.Errorf("%sssl.certificate.location and %sssl.key.location must be set together", p, p)
		}
		certPEM, err := os.ReadFile(certLoc)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%sssl.certificate.location: %w", p, err)
		}
		keyPEM, err := os.ReadFile(keyLoc)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%sssl.key.location: %w", p, err)
		}
		return keyPair(certPEM, keyPEM, p+"ssl.certificate.location/"+p+"ssl.key.location")
	case get("ssl.keystore.location") != "":
		if err := checkPEMType(p, "ssl.keystore.type", get("ssl.keystore.type")); err != nil {
			return tls.Certificate{}, err
		}
		loc := get("ssl.keystore.location")
		data, err := os.ReadFile(loc)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("%sssl.keystore.location: %w", p, err)
		}
		return keyPair(data, data, p+"ssl.keystore.location "+loc)
	case get("ssl.keystore.key") != "":
		return keyPair([]byte(get("ssl.keystore.certificate.chain")), []byte(get("ssl.keystore.key")), p+"ssl.keystore.key/"+p+"ssl.keystore.certificate.chain")
	}
	return tls.Certificate{}, fmt.Errorf("an https listener needs a certificate: set %sssl.keystore.location (PEM with key and certificate chain) or %sssl.certificate.location and %sssl.key.location", p, p, p)
}

func keyPair(certPEM, keyPEM []byte, what string) (tls.Certificate, error) {
	for rest := keyPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] != "" {
			return tls.Certificate{}, fmt.Errorf("%s: encrypted private keys are not supported; decrypt it (openssl pkcs8 -nocrypt) and protect the file instead", what)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: %w", what, err)
	}
	return cert, nil
}

func certPool(data []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, errors.New("no PEM certificates found")
	}
	return pool, nil
}
