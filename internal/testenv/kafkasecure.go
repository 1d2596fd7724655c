package testenv

import (
	"path/filepath"
	"testing"
)

// Environment variables of the secured Kafka node scripts/kafka-secure.sh provisions.
const (
	envKafkaSecureSASLSSL  = "KCONNECT_TEST_KAFKA_SECURE_SASL_SSL"
	envKafkaSecureSSL      = "KCONNECT_TEST_KAFKA_SECURE_SSL"
	envKafkaSecurePKI      = "KCONNECT_TEST_KAFKA_SECURE_PKI"
	envKafkaSecureStorePwd = "KCONNECT_TEST_KAFKA_SECURE_STORE_PASSWORD"
	envKafkaSecureUser     = "KCONNECT_TEST_KAFKA_SECURE_USER"
	envKafkaSecurePassword = "KCONNECT_TEST_KAFKA_SECURE_PASSWORD"
)

// SecureKafka is an Apache Kafka node with a SASL_SSL listener (SCRAM-SHA-512 and unsecured
// OAUTHBEARER) and an SSL listener that requires client certificates, and the files a client
// needs to reach it.
type SecureKafka struct {
	// SASLSSL and SSL are the bootstrap addresses of the two listeners.
	SASLSSL, SSL string
	// PKI is the directory of the test CA's files: ca.pem, truststore.p12 and truststore.jks
	// (the CA), client.p12 (client key and chain) and client.pem (encrypted PKCS#8 key and chain).
	PKI string
	// StorePassword protects every store and the client's PEM key.
	StorePassword string
	// User and Password are the SCRAM-SHA-512 credentials.
	User, Password string
}

// File returns the path of a file of the node's PKI.
func (k SecureKafka) File(name string) string { return filepath.Join(k.PKI, name) }

// KafkaSecure returns the secured Kafka node (scripts/kafka-secure.sh, `make testenv`); like any
// service, its absence skips the test locally and fails it under CI=true. Tests share the node:
// use topics and groups of their own.
func KafkaSecure(t testing.TB) SecureKafka {
	t.Helper()
	return SecureKafka{
		SASLSSL:       Require(t, envKafkaSecureSASLSSL),
		SSL:           Require(t, envKafkaSecureSSL),
		PKI:           Require(t, envKafkaSecurePKI),
		StorePassword: Require(t, envKafkaSecureStorePwd),
		User:          Require(t, envKafkaSecureUser),
		Password:      Require(t, envKafkaSecurePassword),
	}
}
