package runtime_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/kconnect/kconnect/internal/testenv"
)

// TestWorkerMovesRecordsThroughASecuredKafka runs a file source and a file sink through Apache
// Kafka's SASL_SSL listener (SCRAM-SHA-512 or unsecured OAUTHBEARER) and its SSL listener that
// requires a client certificate, with the stores openssl and keytool made: the worker's own
// clients and every task's producer and consumer must authenticate for the lines to arrive.
func TestWorkerMovesRecordsThroughASecuredKafka(t *testing.T) {
	k := testenv.KafkaSecure(t)
	for name, props := range map[string]map[string]string{
		"sasl_ssl_scram": {
			"bootstrap.servers": k.SASLSSL, "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
			"sasl.jaas.config": fmt.Sprintf(`org.apache.kafka.common.security.scram.ScramLoginModule required username=%s password=%s;`,
				strconv.Quote(k.User), strconv.Quote(k.Password)),
			"ssl.truststore.location": k.File("truststore.jks"), "ssl.truststore.type": "JKS", "ssl.truststore.password": k.StorePassword,
		},
		"sasl_ssl_oauthbearer": {
			"bootstrap.servers": k.SASLSSL, "security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
			"sasl.jaas.config":        `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="kconnect";`,
			"ssl.truststore.location": k.File("ca.pem"), "ssl.truststore.type": "PEM",
		},
		"mtls_pkcs12": {
			"bootstrap.servers": k.SSL, "security.protocol": "SSL",
			"ssl.truststore.location": k.File("truststore.p12"), "ssl.truststore.type": "PKCS12", "ssl.truststore.password": k.StorePassword,
			"ssl.keystore.location": k.File("client.p12"), "ssl.keystore.type": "PKCS12", "ssl.keystore.password": k.StorePassword,
		},
		"mtls_pem_encrypted_key": {
			"bootstrap.servers": k.SSL, "security.protocol": "SSL",
			"ssl.truststore.location": k.File("ca.pem"), "ssl.truststore.type": "PEM",
			"ssl.keystore.location": k.File("client.pem"), "ssl.keystore.type": "PEM", "ssl.key.password": k.StorePassword,
		},
	} {
		t.Run(name, func(t *testing.T) {
			w := startWorkerWith(t, props)
			dir := t.TempDir()
			in, out := filepath.Join(dir, "in.txt"), filepath.Join(dir, "out.txt")
			topic := fmt.Sprintf("secure-%s-%d", name, time.Now().UnixNano())
			appendLines(t, in, "alpha", "beta", "gamma")
			w.create("src", map[string]string{"connector.class": "FileStreamSource", "file": in, "topic": topic})
			w.create("snk", map[string]string{"connector.class": "FileStreamSink", "file": out, "topics": topic})
			w.waitFor(60*time.Second, "the lines in the sink's file", func() bool { return hasLines(out, "alpha", "beta", "gamma") })
		})
	}
}
