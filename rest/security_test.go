package rest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeCredentials(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials.properties")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBasicAuth(t *testing.T) {
	// The file format of upstream's PropertyFileLoginModule: a Java properties file.
	creds := writeCredentials(t, "# users\nadmin: s3cret\noperator=op:pw\n")
	s, _ := newTestServer(t, func(c *Config) { c.BasicAuthFile = creds })
	unauthorized := errJSON(401, "User cannot access the resource.")

	rec := call(t, s.Handler(), "GET", "/connectors", "")
	expect(t, rec, 401, unauthorized)
	if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("WWW-Authenticate = %q", rec.Header().Get("WWW-Authenticate"))
	}
	for _, header := range []string{
		basic("admin", "wrong"), basic("nobody", "s3cret"), basic("admin", ""), "Bearer abc", "Basic !!!notbase64", "Basic",
	} {
		expect(t, call(t, s.Handler(), "GET", "/connectors", "", "Authorization", header), 401, unauthorized)
	}
	expect(t, call(t, s.Handler(), "GET", "/connectors", "", "Authorization", basic("admin", "s3cret")), 200, `[]`)
	// The password may contain ':'; only the first one separates the user.
	expect(t, call(t, s.Handler(), "GET", "/connectors", "", "Authorization", "basic "+b64("operator:op:pw")), 200, `[]`)
	// Unknown paths do not reveal themselves to unauthenticated clients.
	expect(t, call(t, s.Handler(), "GET", "/nope", ""), 401, unauthorized)
	// The internal requests of distributed workers are signed instead, as upstream exempts them;
	// a standalone worker does not serve them. Reading task configs still needs credentials.
	notServed := errJSON(404, "HTTP 404 Not Found")
	expect(t, call(t, s.Handler(), "POST", "/connectors/c/tasks", "[]"), 404, notServed)
	expect(t, call(t, s.Handler(), "PUT", "/connectors/c/fence", ""), 404, notServed)
	expect(t, call(t, s.Handler(), "GET", "/connectors/c/tasks", ""), 401, unauthorized)
}

func TestBasicAuthFileErrors(t *testing.T) {
	h := newMemHerder()
	if _, err := New(h, Config{BasicAuthFile: filepath.Join(t.TempDir(), "missing")}, nil); err == nil || !strings.Contains(err.Error(), KeyBasicAuthFile) {
		t.Errorf("missing file: err = %v", err)
	}
	if _, err := New(h, Config{BasicAuthFile: writeCredentials(t, "# nobody\n")}, nil); err == nil || !strings.Contains(err.Error(), "no users") {
		t.Errorf("empty file: err = %v", err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func basic(user, pass string) string { return "Basic " + b64(user+":"+pass) }

// testCA is a throwaway certificate authority issuing the server and client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kconnect test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns PEM certificate and PKCS#8 key for a server (127.0.0.1) or client certificate.
func (ca *testCA) issue(t *testing.T, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "kconnect test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func writeTemp(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startFromWorker(t *testing.T, props map[string]string) *Server {
	t.Helper()
	cfg, err := ConfigFromWorker(props)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(newMemHerder(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func get(t *testing.T, client *http.Client, url string) (int, string, error) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func TestTLSWithPEMKeystoreBundle(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, true)
	bundle := writeTemp(t, dir, "server.pem", append(append([]byte{}, keyPEM...), certPEM...))
	s := startFromWorker(t, map[string]string{
		"listeners":                             "https://127.0.0.1:0",
		"listeners.https.ssl.keystore.type":     "PEM",
		"listeners.https.ssl.keystore.location": bundle,
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	status, body, err := get(t, client, "https://"+s.Addrs()[0]+"/connectors")
	if err != nil || status != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("GET over TLS: %d %q %v", status, body, err)
	}
	if u := s.AdvertisedURL(); !strings.HasPrefix(u, "https://127.0.0.1:") || strings.HasSuffix(u, ":0/") {
		t.Errorf("AdvertisedURL = %q", u)
	}
	// Plain HTTP to a TLS listener gets no API answer.
	if status, _, err := get(t, http.DefaultClient, "http://"+s.Addrs()[0]+"/connectors"); err == nil && status == 200 {
		t.Error("plain HTTP request to the https listener succeeded")
	}
}

func TestTLSClientAuthRequired(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, true)
	s := startFromWorker(t, map[string]string{
		"listeners": "https://127.0.0.1:0",
		// kconnect's separate files, with the top-level ssl.* keys as upstream's fallback.
		"ssl.certificate.location": writeTemp(t, dir, "server.crt", certPEM),
		"ssl.key.location":         writeTemp(t, dir, "server.key", keyPEM),
		"ssl.truststore.location":  writeTemp(t, dir, "ca.pem", ca.pem),
		"ssl.client.auth":          "required",
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.pem)
	url := "https://" + s.Addrs()[0] + "/"

	anonymous := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if status, _, err := get(t, anonymous, url); err == nil {
		t.Errorf("request without a client certificate succeeded with %d", status)
	}
	clientCert, clientKey := ca.issue(t, false)
	pair, err := tls.X509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	authed := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}}}
	if status, body, err := get(t, authed, url); err != nil || status != 200 || !strings.Contains(body, "kafka_cluster_id") {
		t.Errorf("with client certificate: %d %q %v", status, body, err)
	}
}

func TestTLSConfigErrorsNameTheKey(t *testing.T) {
	ca := newTestCA(t)
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, true)
	certFile := writeTemp(t, dir, "c.pem", certPEM)
	encrypted := writeTemp(t, dir, "enc.pem", append(pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), certPEM...))
	cases := []struct {
		props map[string]string
		want  string
	}{
		{map[string]string{"listeners": "https://:0"}, "listeners.https.ssl.keystore.location"},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.keystore.location": "/x.jks", "listeners.https.ssl.keystore.type": "JKS"}, "listeners.https.ssl.keystore.type: JKS stores are not supported"},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.keystore.location": certFile}, "listeners.https.ssl.keystore.location " + certFile},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.keystore.location": encrypted}, "encrypted private keys are not supported"},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.certificate.location": certFile}, "must be set together"},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.certificate.location": certFile, "listeners.https.ssl.key.location": writeTemp(t, dir, "k.pem", keyPEM), "listeners.https.ssl.client.auth": "required"}, "needs listeners.https.ssl.truststore.location"},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.certificate.location": certFile, "listeners.https.ssl.key.location": writeTemp(t, dir, "k2.pem", keyPEM), "listeners.https.ssl.enabled.protocols": "TLSv1.1"}, "listeners.https.ssl.enabled.protocols"},
		{map[string]string{"listeners": "https://:0", "listeners.https.ssl.certificate.location": certFile, "listeners.https.ssl.key.location": writeTemp(t, dir, "k3.pem", keyPEM), "listeners.https.ssl.cipher.suites": "TLS_RSA_WITH_RC4_128_SHA"}, "listeners.https.ssl.cipher.suites"},
	}
	for _, c := range cases {
		_, err := ConfigFromWorker(c.props)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.props, err, c.want)
		}
	}
	// Inline PEM as Kafka's ssl.keystore.key / ssl.keystore.certificate.chain, client certificates
	// requested (not required) against an inline trust store.
	cfg, err := ConfigFromWorker(map[string]string{
		"listeners":                                      "https://:0",
		"listeners.https.ssl.keystore.type":              "PEM",
		"listeners.https.ssl.keystore.key":               string(keyPEM),
		"listeners.https.ssl.keystore.certificate.chain": string(certPEM),
		"listeners.https.ssl.truststore.certificates":    string(ca.pem),
		"listeners.https.ssl.client.auth":                "requested",
		"listeners.https.ssl.enabled.protocols":          "TLSv1.3",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.TLS.Certificates) != 1 || cfg.TLS.ClientAuth != tls.VerifyClientCertIfGiven || cfg.TLS.ClientCAs == nil ||
		cfg.TLS.MinVersion != tls.VersionTLS13 || cfg.TLS.MaxVersion != tls.VersionTLS13 {
		t.Errorf("inline PEM TLS config = %+v", cfg.TLS)
	}
	// An https listener given to New without TLS settings.
	if _, err := New(newMemHerder(), Config{Listeners: []string{"https://:0"}}, nil); err == nil || !strings.Contains(err.Error(), "needs TLS settings") {
		t.Errorf("New without TLS: %v", err)
	}
}

func TestCORS(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.AllowedOrigins = "https://ui.example.com,https://*.corp.example" })
	// Preflight from an allowed origin for a default method (GET, POST, HEAD).
	rec := call(t, s.Handler(), "OPTIONS", "/connectors", "", "Origin", "https://ui.example.com", "Access-Control-Request-Method", "POST")
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "https://ui.example.com" ||
		rec.Header().Get("Access-Control-Allow-Methods") != "GET,POST,HEAD" || rec.Header().Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %d %v", rec.Code, rec.Header())
	}
	// PUT is not allowed by default: no CORS answer.
	rec = call(t, s.Handler(), "OPTIONS", "/connectors/a/pause", "", "Origin", "https://ui.example.com", "Access-Control-Request-Method", "PUT")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight for PUT allowed: %v", rec.Header())
	}
	rec = call(t, s.Handler(), "GET", "/connectors", "", "Origin", "https://team.corp.example")
	expect(t, rec, 200, `[]`)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://team.corp.example" {
		t.Errorf("wildcard origin not allowed: %v", rec.Header())
	}
	rec = call(t, s.Handler(), "GET", "/connectors", "", "Origin", "https://evil.example")
	expect(t, rec, 200, `[]`)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin allowed: %v", rec.Header())
	}

	s, _ = newTestServer(t, func(c *Config) { c.AllowedOrigins = "*"; c.AllowedMethods = "GET,POST,PUT,DELETE" })
	rec = call(t, s.Handler(), "OPTIONS", "/connectors/a/pause", "", "Origin", "http://anything", "Access-Control-Request-Method", "PUT")
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Methods") != "GET,POST,PUT,DELETE" {
		t.Errorf("configured methods: %d %v", rec.Code, rec.Header())
	}
	// Without CORS configured no headers are added.
	s, _ = newTestServer(t, nil)
	rec = call(t, s.Handler(), "GET", "/connectors", "", "Origin", "http://anything")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header without configuration: %v", rec.Header())
	}
}

func TestCORSPreflightNeedsNoCredentials(t *testing.T) {
	creds := writeCredentials(t, "admin: pw\n")
	s, _ := newTestServer(t, func(c *Config) { c.AllowedOrigins = "*"; c.BasicAuthFile = creds })
	rec := call(t, s.Handler(), "OPTIONS", "/connectors", "", "Origin", "http://ui", "Access-Control-Request-Method", "GET")
	if rec.Code != 204 {
		t.Errorf("preflight with basic auth on: %d", rec.Code)
	}
	expect(t, call(t, s.Handler(), "GET", "/connectors", "", "Origin", "http://ui"), 401, errJSON(401, "User cannot access the resource."))
}
