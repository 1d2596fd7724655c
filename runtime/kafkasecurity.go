package runtime

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pavlo-v-chernykh/keystore-go/v4"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/kconnect/kconnect/internal/tlsconf"
)

// Kafka client security keys (upstream CommonClientConfigs, SslConfigs, SaslConfigs).
const (
	securityProtocolKey      = "security.protocol"
	saslMechanismKey         = "sasl.mechanism"
	saslJAASKey              = "sasl.jaas.config"
	saslLoginHandlerKey      = "sasl.login.callback.handler.class"
	sslTruststoreLocation    = "ssl.truststore.location"
	sslTruststoreType        = "ssl.truststore.type"
	sslTruststorePassword    = "ssl.truststore.password"
	sslTruststoreCerts       = "ssl.truststore.certificates"
	sslKeystoreLocation      = "ssl.keystore.location"
	sslKeystoreType          = "ssl.keystore.type"
	sslKeystorePassword      = "ssl.keystore.password"
	sslKeyPassword           = "ssl.key.password"
	sslKeystoreKey           = "ssl.keystore.key"
	sslKeystoreChain         = "ssl.keystore.certificate.chain"
	sslEndpointIdentifyKey   = "ssl.endpoint.identification.algorithm"
	sslProtocolKey           = "ssl.protocol"
	sslEnabledProtocolsKey   = "ssl.enabled.protocols"
	sslCipherSuitesKey       = "ssl.cipher.suites"
	unsecuredLoginHandler    = "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredLoginCallbackHandler"
	unsecuredLoginHandlerOld = "org.apache.kafka.common.security.oauthbearer.OAuthBearerUnsecuredLoginCallbackHandler"
)

// securityKeys are the keys securityOpts reads, and the REST server's ssl.* keys that top-level
// worker settings hand every client too; clientOpts does not report them as unused.
var securityKeys = []string{securityProtocolKey, saslMechanismKey, saslJAASKey, saslLoginHandlerKey,
	sslTruststoreLocation, sslTruststoreType, sslTruststorePassword, sslTruststoreCerts,
	sslKeystoreLocation, sslKeystoreType, sslKeystorePassword, sslKeyPassword, sslKeystoreKey, sslKeystoreChain,
	sslEndpointIdentifyKey, sslProtocolKey, sslEnabledProtocolsKey, sslCipherSuitesKey,
	// The REST server's own TLS settings (rest/config.go), read from the same top-level ssl.*.
	"ssl.client.auth", "ssl.certificate.location", "ssl.key.location"}

// securityOpts maps security.protocol and the ssl.* and sasl.* settings it calls for onto
// franz-go options; with a lease, connections hold back writes of records while it is not valid.
func securityOpts(props map[string]string, lease Lease) ([]kgo.Opt, error) {
	proto := strings.ToUpper(strings.TrimSpace(props[securityProtocolKey]))
	var useTLS, useSASL bool
	switch proto {
	case "", "PLAINTEXT":
	case "SSL":
		useTLS = true
	case "SASL_PLAINTEXT":
		useSASL = true
	case "SASL_SSL":
		useTLS, useSASL = true, true
	default:
		return nil, fmt.Errorf("%s=%q: must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL", securityProtocolKey, props[securityProtocolKey])
	}
	var opts []kgo.Opt
	var tc *tls.Config
	if useTLS {
		var err error
		if tc, err = tlsConfig(props); err != nil {
			return nil, err
		}
	}
	switch {
	case lease != nil:
		opts = append(opts, kgo.Dialer(leaseDial(lease, tc)))
	case tc != nil:
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if useSASL {
		m, err := saslMechanism(props, time.Now)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// tlsConfig builds the TLS configuration of the ssl.* settings: the truststore (the system's
// roots without one), the keystore for mutual TLS, the protocol versions and cipher suites, and
// whether the broker's host name is verified.
func tlsConfig(props map[string]string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if err := tlsconf.Apply(tc, func(k string) string { return props[k] }, ""); err != nil {
		return nil, err
	}
	roots, err := loadTruststore(props)
	if err != nil {
		return nil, err
	}
	tc.RootCAs = roots
	cert, err := loadKeystore(props)
	if err != nil {
		return nil, err
	}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	algo, set := props[sslEndpointIdentifyKey]
	switch algo = strings.TrimSpace(algo); {
	case !set || strings.EqualFold(algo, "https"):
	case algo == "":
		// The chain is still verified against the truststore; only the name check is skipped,
		// as upstream does when the algorithm is empty.
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("broker presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	default:
		return nil, fmt.Errorf("%s=%q: must be https or empty", sslEndpointIdentifyKey, algo)
	}
	return tc, nil
}

// storeType returns a store's type as configured, or as its content shows when unset: upstream's
// default is JKS, but a PEM or PKCS12 file is read as such rather than refused.
func storeType(props map[string]string, key string, data []byte) string {
	if t := strings.ToUpper(strings.TrimSpace(props[key])); t != "" {
		return t
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xfe, 0xed, 0xfe, 0xed}):
		return "JKS"
	case bytes.Contains(data, []byte("-----BEGIN")):
		return "PEM"
	}
	return "PKCS12"
}

// loadTruststore reads the CA certificates the broker's certificate must chain to: nil (the
// system's roots) without a truststore.
func loadTruststore(props map[string]string) (*x509.CertPool, error) {
	if inline := props[sslTruststoreCerts]; inline != "" {
		if t := strings.ToUpper(strings.TrimSpace(props[sslTruststoreType])); t != "PEM" {
			return nil, fmt.Errorf("%s requires %s=PEM", sslTruststoreCerts, sslTruststoreType)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(inline)) {
			return nil, fmt.Errorf("%s: no PEM certificate found", sslTruststoreCerts)
		}
		return pool, nil
	}
	loc := strings.TrimSpace(props[sslTruststoreLocation])
	if loc == "" {
		return nil, nil
	}
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sslTruststoreLocation, err)
	}
	pool := x509.NewCertPool()
	pass := props[sslTruststorePassword]
	switch typ := storeType(props, sslTruststoreType, data); typ {
	case "PEM":
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%s %s: no PEM certificate found", sslTruststoreLocation, loc)
		}
	case "PKCS12":
		certs, err := pkcs12.DecodeTrustStore(data, pass)
		if err != nil {
			return nil, fmt.Errorf("%s %s (PKCS12, %s): %w", sslTruststoreLocation, loc, sslTruststorePassword, err)
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	case "JKS":
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), []byte(pass)); err != nil {
			return nil, fmt.Errorf("%s %s (JKS, %s): %w", sslTruststoreLocation, loc, sslTruststorePassword, err)
		}
		for _, alias := range ks.Aliases() {
			if e, err := ks.GetTrustedCertificateEntry(alias); err == nil {
				c, err := x509.ParseCertificate(e.Certificate.Content)
				if err != nil {
					return nil, fmt.Errorf("%s %s: certificate %s: %w", sslTruststoreLocation, loc, alias, err)
				}
				pool.AddCert(c)
			}
		}
	default:
		return nil, fmt.Errorf("%s=%q: must be JKS, PKCS12 or PEM", sslTruststoreType, props[sslTruststoreType])
	}
	if pool.Equal(x509.NewCertPool()) {
		return nil, fmt.Errorf("%s %s: no trusted certificate in it", sslTruststoreLocation, loc)
	}
	return pool, nil
}

// loadKeystore reads the client's certificate and key for mutual TLS; nil without a keystore.
func loadKeystore(props map[string]string) (*tls.Certificate, error) {
	storePass, keyPass := props[sslKeystorePassword], props[sslKeyPassword]
	if key := props[sslKeystoreKey]; key != "" || props[sslKeystoreChain] != "" {
		if t := strings.ToUpper(strings.TrimSpace(props[sslKeystoreType])); t != "PEM" {
			return nil, fmt.Errorf("%s and %s require %s=PEM", sslKeystoreKey, sslKeystoreChain, sslKeystoreType)
		}
		if key == "" || props[sslKeystoreChain] == "" {
			return nil, fmt.Errorf("%s and %s must both be set", sslKeystoreKey, sslKeystoreChain)
		}
		return pemKeyPair([]byte(props[sslKeystoreChain]+"\n"+key), keyPass, sslKeystoreKey)
	}
	loc := strings.TrimSpace(props[sslKeystoreLocation])
	if loc == "" {
		return nil, nil
	}
	data, err := os.ReadFile(loc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sslKeystoreLocation, err)
	}
	switch typ := storeType(props, sslKeystoreType, data); typ {
	case "PEM":
		return pemKeyPair(data, keyPass, sslKeystoreLocation+" "+loc)
	case "PKCS12":
		// A PKCS12 store has one password in practice (keytool sets the key's to the store's);
		// ssl.key.password is tried when it differs.
		key, leaf, chain, err := pkcs12.DecodeChain(data, storePass)
		if err != nil && keyPass != "" && keyPass != storePass {
			key, leaf, chain, err = pkcs12.DecodeChain(data, keyPass)
		}
		if err != nil {
			return nil, fmt.Errorf("%s %s (PKCS12, %s): %w", sslKeystoreLocation, loc, sslKeystorePassword, err)
		}
		cert := &tls.Certificate{PrivateKey: key, Leaf: leaf, Certificate: [][]byte{leaf.Raw}}
		for _, c := range chain {
			cert.Certificate = append(cert.Certificate, c.Raw)
		}
		return cert, nil
	case "JKS":
		ks := keystore.New()
		if err := ks.Load(bytes.NewReader(data), []byte(storePass)); err != nil {
			return nil, fmt.Errorf("%s %s (JKS, %s): %w", sslKeystoreLocation, loc, sslKeystorePassword, err)
		}
		if keyPass == "" {
			keyPass = storePass
		}
		for _, alias := range ks.Aliases() {
			if !ks.IsPrivateKeyEntry(alias) {
				continue
			}
			e, err := ks.GetPrivateKeyEntry(alias, []byte(keyPass))
			if err != nil {
				return nil, fmt.Errorf("%s %s: key %s (%s): %w", sslKeystoreLocation, loc, alias, sslKeyPassword, err)
			}
			key, err := x509.ParsePKCS8PrivateKey(e.PrivateKey)
			if err != nil {
				return nil, fmt.Errorf("%s %s: key %s: %w", sslKeystoreLocation, loc, alias, err)
			}
			cert := &tls.Certificate{PrivateKey: key}
			for _, c := range e.CertificateChain {
				cert.Certificate = append(cert.Certificate, c.Content)
			}
			return cert, nil
		}
		return nil, fmt.Errorf("%s %s: no private key entry in it", sslKeystoreLocation, loc)
	default:
		return nil, fmt.Errorf("%s=%q: must be JKS, PKCS12 or PEM", sslKeystoreType, props[sslKeystoreType])
	}
}

// pemKeyPair reads a PEM certificate chain and private key, the key encrypted (PKCS#8 with
// PBES2, as upstream's PEM keystore expects when ssl.key.password is set) or not.
func pemKeyPair(data []byte, keyPass, what string) (*tls.Certificate, error) {
	cert := &tls.Certificate{}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			cert.Certificate = append(cert.Certificate, block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			if keyPass == "" {
				return nil, fmt.Errorf("%s: the private key is encrypted and %s is not set", what, sslKeyPassword)
			}
			der, err := decryptPKCS8(block.Bytes, keyPass)
			if err != nil {
				return nil, fmt.Errorf("%s: decrypt the private key (%s): %w", what, sslKeyPassword, err)
			}
			if cert.PrivateKey, err = x509.ParsePKCS8PrivateKey(der); err != nil {
				return nil, fmt.Errorf("%s: private key: %w", what, err)
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			k, err := parsePlainKey(block)
			if err != nil {
				return nil, fmt.Errorf("%s: private key: %w", what, err)
			}
			cert.PrivateKey = k
		}
	}
	if cert.PrivateKey == nil || len(cert.Certificate) == 0 {
		return nil, fmt.Errorf("%s: needs a private key and a certificate in PEM", what)
	}
	return cert, nil
}

func parsePlainKey(block *pem.Block) (any, error) {
	switch block.Type {
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	}
	return x509.ParsePKCS8PrivateKey(block.Bytes)
}

// Object identifiers of PKCS#5 v2 (RFC 8018) and the ciphers it wraps.
var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACSHA512 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
)

type encryptedPKCS8 struct {
	Algo pkix.AlgorithmIdentifier
	Data []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Cipher pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// decryptPKCS8 decrypts an EncryptedPrivateKeyInfo protected with PBES2 (PBKDF2 and AES-CBC or
// 3DES-CBC), what `openssl pkcs8 -topk8 -v2` and current keytool exports write.
func decryptPKCS8(der []byte, password string) ([]byte, error) {
	var info encryptedPKCS8
	if _, err := asn1.Unmarshal(der, &info); err != nil {
		return nil, fmt.Errorf("parse encrypted key: %w", err)
	}
	if !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("key encryption %v is not supported (PBES2 is)", info.Algo.Algorithm)
	}
	var params pbes2Params
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("parse PBES2 parameters: %w", err)
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("key derivation %v is not supported (PBKDF2 is)", params.KDF.Algorithm)
	}
	var kdf pbkdf2Params
	if _, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("parse PBKDF2 parameters: %w", err)
	}
	var prf func() hash.Hash
	switch alg := kdf.PRF.Algorithm; {
	case len(alg) == 0 || alg.Equal(oidHMACSHA1):
		prf = sha1.New
	case alg.Equal(oidHMACSHA256):
		prf = sha256.New
	case alg.Equal(oidHMACSHA512):
		prf = sha512.New
	default:
		return nil, fmt.Errorf("PBKDF2 PRF %v is not supported", alg)
	}
	var keyLen int
	var newBlock func([]byte) (cipher.Block, error)
	switch alg := params.Cipher.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case alg.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case alg.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case alg.Equal(oidDESEDE3CBC):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	default:
		return nil, fmt.Errorf("cipher %v is not supported (AES-CBC and DES-EDE3-CBC are)", alg)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(params.Cipher.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("parse cipher IV: %w", err)
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, err
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != block.BlockSize() || len(info.Data) == 0 || len(info.Data)%block.BlockSize() != 0 {
		return nil, errors.New("malformed encrypted key")
	}
	out := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, info.Data)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > block.BlockSize() || !bytes.Equal(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, errors.New("wrong password or corrupt key")
	}
	return out[:len(out)-pad], nil
}

// saslMechanism builds the SASL mechanism of sasl.mechanism from the login module options of
// sasl.jaas.config.
func saslMechanism(props map[string]string, now func() time.Time) (sasl.Mechanism, error) {
	mech := strings.ToUpper(strings.TrimSpace(props[saslMechanismKey]))
	if mech == "" {
		mech = "GSSAPI"
	}
	switch mech {
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER":
	default:
		return nil, fmt.Errorf("%s=%s is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER are)", saslMechanismKey, mech)
	}
	if props[saslJAASKey] == "" {
		return nil, fmt.Errorf("%s is required with %s=%s", saslJAASKey, saslMechanismKey, mech)
	}
	mod, err := parseJAAS(props[saslJAASKey])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", saslJAASKey, err)
	}
	need := func(names ...string) error {
		for _, n := range names {
			if mod.options[n] == "" {
				return fmt.Errorf("%s: %s needs the option %s", saslJAASKey, mod.class, n)
			}
		}
		return nil
	}
	switch mech {
	case "PLAIN":
		if err := need("username", "password"); err != nil {
			return nil, err
		}
		return plain.Auth{User: mod.options["username"], Pass: mod.options["password"]}.AsMechanism(), nil
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		if err := need("username", "password"); err != nil {
			return nil, err
		}
		a := scram.Auth{User: mod.options["username"], Pass: mod.options["password"], IsToken: strings.EqualFold(mod.options["tokenauth"], "true")}
		if mech == "SCRAM-SHA-256" {
			return a.AsSha256Mechanism(), nil
		}
		return a.AsSha512Mechanism(), nil
	}
	switch h := strings.TrimSpace(props[saslLoginHandlerKey]); h {
	case "", unsecuredLoginHandler, unsecuredLoginHandlerOld:
	default:
		return nil, fmt.Errorf("%s=%s is not supported; kconnect issues OAUTHBEARER tokens with the unsecured login module options (unsecuredLoginStringClaim_sub=...)", saslLoginHandlerKey, h)
	}
	if _, err := unsecuredToken(mod.options, now()); err != nil {
		return nil, fmt.Errorf("%s: %w", saslJAASKey, err)
	}
	return oauth.Oauth(func(context.Context) (oauth.Auth, error) {
		tok, err := unsecuredToken(mod.options, now())
		return oauth.Auth{Token: tok, Extensions: unsecuredExtensions(mod.options)}, err
	}), nil
}

// unsecuredToken issues an unsigned JWS ("alg":"none") from the options of upstream's
// OAuthBearerUnsecuredLoginCallbackHandler: unsecuredLoginStringClaim_<name>,
// unsecuredLoginNumberClaim_<name>, unsecuredLoginListClaim_<name> (the first character separates
// the items), unsecuredLoginPrincipalClaimName (sub), unsecuredLoginScopeClaimName (scope) and
// unsecuredLoginLifetimeSeconds (3600). A token is issued per connection, so none outlives its
// lifetime.
func unsecuredToken(opts map[string]string, now time.Time) (string, error) {
	claims := map[string]any{}
	lifetime := 3600.0
	if v, ok := opts["unsecuredLoginLifetimeSeconds"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return "", fmt.Errorf("unsecuredLoginLifetimeSeconds=%q: not a positive number", v)
		}
		lifetime = f
	}
	for k, v := range opts {
		var name string
		var value any
		switch {
		case strings.HasPrefix(k, "unsecuredLoginStringClaim_"):
			name, value = k[len("unsecuredLoginStringClaim_"):], v
		case strings.HasPrefix(k, "unsecuredLoginNumberClaim_"):
			name = k[len("unsecuredLoginNumberClaim_"):]
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return "", fmt.Errorf("%s=%q: not a number", k, v)
			}
			value = f
		case strings.HasPrefix(k, "unsecuredLoginListClaim_"):
			name = k[len("unsecuredLoginListClaim_"):]
			items := []string{}
			if v != "" {
				for _, it := range strings.Split(v[1:], v[:1]) {
					if it != "" {
						items = append(items, it)
					}
				}
			}
			value = items
		default:
			continue
		}
		if name == "iat" || name == "exp" {
			return "", fmt.Errorf("%s: the %s claim is set from the time and unsecuredLoginLifetimeSeconds", k, name)
		}
		claims[name] = value
	}
	principal := opts["unsecuredLoginPrincipalClaimName"]
	if principal == "" {
		principal = "sub"
	}
	if s, _ := claims[principal].(string); strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("the principal claim %s must be set (unsecuredLoginStringClaim_%s)", principal, principal)
	}
	iat := float64(now.UnixMilli()) / 1000
	claims["iat"], claims["exp"] = iat, iat+lifetime
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(body) + ".", nil
}

// unsecuredExtensions returns the SASL extensions of unsecuredLoginExtension_<name> options.
func unsecuredExtensions(opts map[string]string) map[string]string {
	var ext map[string]string
	for k, v := range opts {
		if name, ok := strings.CutPrefix(k, "unsecuredLoginExtension_"); ok {
			if ext == nil {
				ext = map[string]string{}
			}
			ext[name] = v
		}
	}
	return ext
}
