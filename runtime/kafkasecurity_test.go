package runtime

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"software.sslmate.com/src/go-pkcs12"
)

func TestJAASParsesQuotedValuesWithEscapes(t *testing.T) {
	mod, err := parseJAAS(`org.apache.kafka.common.security.scram.ScramLoginModule Required
		username="alice"  password="pa\"ss\\w=rd;" tokenauth=true // a comment to the end of the line
		single='it"s' /* a block
		comment */ empty="" escapes="a\tb\101\7z\q" path="/etc/x";`)
	if err != nil {
		t.Fatal(err)
	}
	// Hand-derived from Java's StreamTokenizer rules: \t is a tab, \101 octal 'A', \7 BEL, \q a
	// plain q; '/' outside quotes starts a comment.
	want := map[string]string{"username": "alice", "password": `pa"ss\w=rd;`, "tokenauth": "true",
		"single": `it"s`, "empty": "", "escapes": "a\tbA\azq", "path": "/etc/x"}
	if mod.class != "org.apache.kafka.common.security.scram.ScramLoginModule" || mod.flag != "required" || len(mod.options) != len(want) {
		t.Fatalf("got %+v", mod)
	}
	for k, v := range want {
		if mod.options[k] != v {
			t.Errorf("option %s = %q, want %q", k, mod.options[k], v)
		}
	}
}

func TestJAASRejectsMalformedConfigs(t *testing.T) {
	for _, s := range []string{
		``,
		`// only a comment`,
		`org.example.Module required username="a"`,                    // no ';'
		`org.example.Module username="a";`,                            // no flag
		`org.example.Module mandatory username="a";`,                  // bad flag
		`org.example.Module required username "a";`,                   // no '='
		`org.example.Module required username="a;`,                    // the quote runs to the end: no ';'
		`org.example.Module required username=;`,                      // no value
		`org.example.Module required path=/etc/x;`,                    // '/' starts a comment
		`org.example.A required a="1"; org.example.B required b="2";`, // two modules
	} {
		if mod, err := parseJAAS(s); err == nil {
			t.Errorf("%q: accepted as %+v", s, mod)
		}
	}
}

func TestClientPropsLayersWorkerRoleAndConnectorSettings(t *testing.T) {
	worker := map[string]string{
		"bootstrap.servers": "w:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
		"ssl.truststore.location": "/w/trust.p12", "offset.flush.interval.ms": "1000",
		"producer.sasl.mechanism": "SCRAM-SHA-512", "consumer.ssl.truststore.location": "/c/trust.pem",
	}
	conn := map[string]string{"producer.override.sasl.jaas.config": "x required;", "consumer.override.bootstrap.servers": "c:9092"}
	for role, want := range map[string]map[string]string{
		"producer": {"bootstrap.servers": "w:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
			"ssl.truststore.location": "/w/trust.p12", "sasl.jaas.config": "x required;"},
		"consumer": {"bootstrap.servers": "c:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
			"ssl.truststore.location": "/c/trust.pem"},
		"admin": {"bootstrap.servers": "w:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
			"ssl.truststore.location": "/w/trust.p12"},
	} {
		got := clientProps(worker, conn, role)
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", role, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", role, k, got[k], v)
			}
		}
	}
}

func TestSecuritySettingsRejectUnknownValuesNamingTheKey(t *testing.T) {
	for key, props := range map[string]map[string]string{
		securityProtocolKey:    {securityProtocolKey: "TLS"},
		saslMechanismKey:       {securityProtocolKey: "SASL_PLAINTEXT", saslMechanismKey: "GSSAPI", saslJAASKey: `m required;`},
		saslJAASKey:            {securityProtocolKey: "SASL_PLAINTEXT", saslMechanismKey: "PLAIN", saslJAASKey: `m required username="u";`},
		saslLoginHandlerKey:    {securityProtocolKey: "SASL_PLAINTEXT", saslMechanismKey: "OAUTHBEARER", saslJAASKey: `m required unsecuredLoginStringClaim_sub="u";`, saslLoginHandlerKey: "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"},
		sslEndpointIdentifyKey: {securityProtocolKey: "SSL", sslEndpointIdentifyKey: "dns"},
		sslEnabledProtocolsKey: {securityProtocolKey: "SSL", sslEnabledProtocolsKey: "TLSv1.2,SSLv3"},
		sslTruststoreType:      {securityProtocolKey: "SSL", sslTruststoreLocation: "testdata/pkcs8/key.pem", sslTruststoreType: "BKS"},
		sslTruststoreLocation:  {securityProtocolKey: "SSL", sslTruststoreLocation: "testdata/missing.pem"},
		sslKeystoreType:        {securityProtocolKey: "SSL", sslKeystoreKey: "k", sslKeystoreChain: "c"},
		sslKeyPassword:         {securityProtocolKey: "SSL", sslKeystoreType: "PEM", sslKeystoreLocation: "testdata/pkcs8/key-des3.pem"},
	} {
		_, err := clientOpts(props)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%v: got %v, want an error naming %s", props, err, key)
		}
	}
}

func TestUnsecuredOAuthTokenCarriesTheConfiguredClaims(t *testing.T) {
	mod, err := parseJAAS(`org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required
		unsecuredLoginStringClaim_sub="alice" unsecuredLoginNumberClaim_level="7"
		unsecuredLoginListClaim_scope="|read|write" unsecuredLoginLifetimeSeconds="60"
		unsecuredLoginExtension_traceId="abc";`)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 500_000_000)
	tok, err := unsecuredToken(mod.options, now)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("token %q: want header.claims. with an empty signature", tok)
	}
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if string(header) != `{"alg":"none"}` {
		t.Errorf("header %s", header)
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "alice" || claims["level"] != 7.0 || claims["iat"] != 1700000000.5 || claims["exp"] != 1700000060.5 {
		t.Errorf("claims %v", claims)
	}
	if scope, _ := claims["scope"].([]any); len(scope) != 2 || scope[0] != "read" || scope[1] != "write" {
		t.Errorf("scope %v, want [read write]", claims["scope"])
	}
	if ext := unsecuredExtensions(mod.options); len(ext) != 1 || ext["traceId"] != "abc" {
		t.Errorf("extensions %v", ext)
	}
	delete(mod.options, "unsecuredLoginStringClaim_sub")
	if _, err := unsecuredToken(mod.options, now); err == nil || !strings.Contains(err.Error(), "sub") {
		t.Errorf("token without a principal: %v", err)
	}
}

func TestDecryptPKCS8MatchesOpenSSL(t *testing.T) {
	plain, err := os.ReadFile("testdata/pkcs8/key.pem")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := pem.Decode(plain)
	for _, f := range []string{"key-aes256-sha256.pem", "key-aes128-sha1.pem", "key-des3.pem"} {
		data, err := os.ReadFile(filepath.Join("testdata/pkcs8", f))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(data)
		got, err := decryptPKCS8(block.Bytes, `s3cr"et\x`)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !bytes.Equal(got, want.Bytes) {
			t.Errorf("%s: decrypted key differs from OpenSSL's plain key.pem", f)
		}
		if _, err := decryptPKCS8(block.Bytes, "wrong"); err == nil {
			t.Errorf("%s: wrong password accepted", f)
		}
	}
}

// testPKI is a CA with a broker and a client certificate, written as PEM, PKCS12 and JKS files.
type testPKI struct {
	dir        string
	ca         *x509.Certificate
	server     tls.Certificate
	clientKey  *ecdsa.PrivateKey
	clientCert *x509.Certificate
}

func newTestPKI(t *testing.T, serverNames ...string) *testPKI {
	t.Helper()
	p := &testPKI{dir: t.TempDir()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kconnect test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	p.ca, _ = x509.ParseCertificate(der)
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage, names []string) (*ecdsa.PrivateKey, *x509.Certificate) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{usage},
			KeyUsage: x509.KeyUsageDigitalSignature}
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, n)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return key, c
	}
	sk, sc := leaf(2, "broker", x509.ExtKeyUsageServerAuth, serverNames)
	p.server = tls.Certificate{Certificate: [][]byte{sc.Raw}, PrivateKey: sk}
	p.clientKey, p.clientCert = leaf(3, "client", x509.ExtKeyUsageClientAuth, nil)

	pemOf := func(typ string, b []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}) }
	keyDER, _ := x509.MarshalPKCS8PrivateKey(p.clientKey)
	p.write(t, "ca.pem", pemOf("CERTIFICATE", p.ca.Raw))
	p.write(t, "client.pem", append(pemOf("PRIVATE KEY", keyDER), pemOf("CERTIFICATE", p.clientCert.Raw)...))
	trust, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{p.ca}, "trustpass")
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "trust.p12", trust)
	ks, err := pkcs12.Modern.Encode(p.clientKey, p.clientCert, []*x509.Certificate{p.ca}, "storepass")
	if err != nil {
		t.Fatal(err)
	}
	p.write(t, "client.p12", ks)
	jks := keystore.New()
	if err := jks.SetTrustedCertificateEntry("ca", keystore.TrustedCertificateEntry{CreationTime: time.Now(),
		Certificate: keystore.Certificate{Type: "X509", Content: p.ca.Raw}}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jks.Store(&buf, []byte("jkspass")); err != nil {
		t.Fatal(err)
	}
	p.write(t, "trust.jks", buf.Bytes())
	jks = keystore.New()
	if err := jks.SetPrivateKeyEntry("client", keystore.PrivateKeyEntry{CreationTime: time.Now(), PrivateKey: keyDER,
		CertificateChain: []keystore.Certificate{{Type: "X509", Content: p.clientCert.Raw}, {Type: "X509", Content: p.ca.Raw}}}, []byte("keypass")); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := jks.Store(&buf, []byte("jkspass")); err != nil {
		t.Fatal(err)
	}
	p.write(t, "client.jks", buf.Bytes())
	return p
}

func (p *testPKI) write(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(p.dir, name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func (p *testPKI) path(name string) string { return filepath.Join(p.dir, name) }

// roundTrip produces a record through a client configured with props and consumes it back.
func roundTrip(t *testing.T, props map[string]string) error {
	t.Helper()
	opts, err := clientOpts(props)
	if err != nil {
		return err
	}
	topic := "secure-" + strings.ReplaceAll(t.Name(), "/", "-")
	cl, err := kgo.NewClient(append(opts, kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics(topic),
		kgo.RequestRetries(1), kgo.RetryTimeout(5*time.Second))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("secret")}).FirstErr(); err != nil {
		return err
	}
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, r := range fs.Records() {
			if string(r.Value) == "secret" {
				return nil
			}
		}
	}
}

// connectErr is the error of one attempt to reach the brokers through a client configured with
// props: a rejected connection fails at once instead of being retried.
func connectErr(t *testing.T, props map[string]string) error {
	t.Helper()
	opts, err := clientOpts(props)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

func TestMutualTLSWithEveryStoreType(t *testing.T) {
	pki := newTestPKI(t, "127.0.0.1")
	roots := x509.NewCertPool()
	roots.AddCert(pki.ca)
	c, err := kfake.NewCluster(kfake.Ports(0), kfake.AllowAutoTopicCreation(), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{pki.server}, ClientCAs: roots, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bootstrap := c.ListenAddrs()[0]
	base := map[string]string{"bootstrap.servers": bootstrap, "security.protocol": "SSL"}
	caPEM, _ := os.ReadFile(pki.path("ca.pem"))

	keyDER, _ := x509.MarshalPKCS8PrivateKey(pki.clientKey)
	for name, extra := range map[string]map[string]string{
		"pem files": {sslTruststoreLocation: pki.path("ca.pem"), sslTruststoreType: "PEM", sslKeystoreLocation: pki.path("client.pem"), sslKeystoreType: "PEM"},
		"pem inline": {sslTruststoreCerts: string(caPEM), sslTruststoreType: "PEM", sslKeystoreType: "PEM",
			sslKeystoreKey:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
			sslKeystoreChain: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.clientCert.Raw}))},
		"pkcs12": {sslTruststoreLocation: pki.path("trust.p12"), sslTruststoreType: "PKCS12", sslTruststorePassword: "trustpass",
			sslKeystoreLocation: pki.path("client.p12"), sslKeystoreType: "PKCS12", sslKeystorePassword: "storepass"},
		"jks": {sslTruststoreLocation: pki.path("trust.jks"), sslTruststoreType: "JKS", sslTruststorePassword: "jkspass",
			sslKeystoreLocation: pki.path("client.jks"), sslKeystoreType: "JKS", sslKeystorePassword: "jkspass", sslKeyPassword: "keypass"},
		"types detected": {sslTruststoreLocation: pki.path("trust.jks"), sslTruststorePassword: "jkspass",
			sslKeystoreLocation: pki.path("client.p12"), sslKeystorePassword: "storepass"},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			props := map[string]string{}
			for k, v := range base {
				props[k] = v
			}
			for k, v := range extra {
				props[k] = v
			}
			if err := roundTrip(t, props); err != nil {
				t.Fatalf("%v", err)
			}
		})
	}
	t.Run("no_client_certificate", func(t *testing.T) {
		if err := connectErr(t, map[string]string{"bootstrap.servers": bootstrap, "security.protocol": "SSL", sslTruststoreLocation: pki.path("ca.pem")}); err == nil {
			t.Fatal("a broker requiring client certificates accepted a client without one")
		}
	})
	t.Run("untrusted_broker", func(t *testing.T) {
		other := newTestPKI(t, "127.0.0.1")
		err := connectErr(t, map[string]string{"bootstrap.servers": bootstrap, "security.protocol": "SSL",
			sslTruststoreLocation: other.path("ca.pem"), sslKeystoreLocation: pki.path("client.pem")})
		if !errors.As(err, new(x509.UnknownAuthorityError)) {
			t.Fatalf("got %v, want the broker's certificate rejected as signed by an unknown authority", err)
		}
	})
}

func TestEndpointIdentificationChecksTheBrokerName(t *testing.T) {
	pki := newTestPKI(t, "broker.example") // not the address the client dials
	c, err := kfake.NewCluster(kfake.Ports(0), kfake.AllowAutoTopicCreation(), kfake.TLS(&tls.Config{
		Certificates: []tls.Certificate{pki.server}, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	props := map[string]string{"bootstrap.servers": c.ListenAddrs()[0], "security.protocol": "SSL", sslTruststoreLocation: pki.path("ca.pem")}
	if err := connectErr(t, props); !errors.As(err, new(x509.HostnameError)) {
		t.Fatalf("got %v, want hostname verification (https, the default) to reject a certificate for another name", err)
	}
	props[sslEndpointIdentifyKey] = ""
	if err := roundTrip(t, props); err != nil {
		t.Fatalf("with %s empty: %v", sslEndpointIdentifyKey, err)
	}
	props[sslTruststoreLocation] = newTestPKI(t, "127.0.0.1").path("ca.pem")
	if err := connectErr(t, props); !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Fatalf("with the name check off: got %v, want a certificate from an untrusted CA rejected", err)
	}
}

func TestSASLMechanismsAgainstKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.Ports(0), kfake.AllowAutoTopicCreation(), kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plainuser", `p"w\d`),
		kfake.Superuser("SCRAM-SHA-256", "scram256", `s"256`),
		kfake.Superuser("SCRAM-SHA-512", "scram512", `s\512`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct{ mech, jaas string }{
		{"PLAIN", `org.apache.kafka.common.security.plain.PlainLoginModule required username="plainuser" password="p\"w\\d";`},
		{"SCRAM-SHA-256", `org.apache.kafka.common.security.scram.ScramLoginModule required username="scram256" password="s\"256";`},
		{"SCRAM-SHA-512", `org.apache.kafka.common.security.scram.ScramLoginModule required username="scram512" password="s\\512";`},
	} {
		t.Run(tc.mech, func(t *testing.T) {
			props := map[string]string{"bootstrap.servers": c.ListenAddrs()[0], "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": tc.mech, "sasl.jaas.config": tc.jaas}
			if err := roundTrip(t, props); err != nil {
				t.Fatal(err)
			}
			props["sasl.jaas.config"] = strings.Replace(tc.jaas, `password="`, `password="x`, 1)
			// kfake hangs up on a failed authentication rather than answering with an error code.
			if err := connectErr(t, props); err == nil {
				t.Fatal("a wrong password was accepted")
			}
		})
	}
}

func TestUnusedClientKeysAreLoggedOnce(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(prev)
	props := map[string]string{"bootstrap.servers": "127.0.0.1:1", "linger.ms": "5", "security.protocol": "PLAINTEXT",
		"max.poll.records": "10", "test.unused.key.once": "x"}
	for range 2 {
		if _, err := clientOpts(props); err != nil {
			t.Fatal(err)
		}
	}
	var warned []string
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if l != "" {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "level=WARN") || !strings.Contains(warned[0], "key=test.unused.key.once") {
		t.Errorf("log %q; want one WARN naming test.unused.key.once", warned)
	}
	props["max.poll.records"] = "0"
	if _, err := clientOpts(props); err == nil || !strings.Contains(err.Error(), "max.poll.records") {
		t.Errorf("max.poll.records=0: %v", err)
	}
}

// FuzzJAAS checks that the parser never panics and that what it parsed, written back quoted
// with escapes, parses to the same module.
func FuzzJAAS(f *testing.F) {
	f.Add(`org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b\"c\\d";`)
	f.Add(`m optional k=v;`)
	f.Add(`m required k="unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		mod, err := parseJAAS(s)
		if err != nil {
			return
		}
		quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
		var b strings.Builder
		b.WriteString(`"` + quote.Replace(mod.class) + `" ` + mod.flag)
		for k, v := range mod.options {
			b.WriteString(` "` + quote.Replace(k) + `"="` + quote.Replace(v) + `"`)
		}
		b.WriteString(";")
		again, err := parseJAAS(b.String())
		if err != nil {
			t.Fatalf("%q parsed, but its rewrite %q does not: %v", s, b.String(), err)
		}
		if again.class != mod.class || again.flag != mod.flag || len(again.options) != len(mod.options) {
			t.Fatalf("%q: rewrite %q parsed as %+v, want %+v", s, b.String(), again, mod)
		}
		for k, v := range mod.options {
			if again.options[k] != v {
				t.Fatalf("%q: option %s = %q after rewrite, want %q", s, k, again.options[k], v)
			}
		}
	})
}
