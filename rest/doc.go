// Package rest serves Kafka Connect's REST API: the same paths, methods, status codes, JSON
// field names and error bodies as Apache Kafka Connect, so curl scripts, kcctl, Kafka UIs and
// Terraform providers work unchanged. It talks to the worker only through herder.Herder.
// The API is described by the OpenAPI document openapi.json, served at GET /openapi.json.
//
// Every non-2xx response except GET /health (whose body is upstream's worker status) has the body
// {"error_code": <status>, "message": "..."}. Beyond upstream, malformed JSON is 400 (upstream
// answers some with 500), bodies over the size limit are 413, and unknown paths and methods are
// 404 and 405 with the same body.
//
// # Worker configuration
//
// ConfigFromWorker reads upstream's keys: listeners (default http://:8083, or Kafka 3.x's
// rest.host.name and rest.port when listeners is unset), admin.listeners,
// rest.advertised.host.name, rest.advertised.port, rest.advertised.listener,
// access.control.allow.origin, access.control.allow.methods, topic.tracking.enable and
// topic.tracking.allow.reset. kconnect adds:
//
//   - rest.basic.auth.credentials.file: a properties file with one "user: password" (or
//     "user=password") line per user, the file upstream's BasicAuthSecurityRestExtension reads
//     through JAAS. When set, every request needs HTTP basic credentials from it. Setting
//     rest.extension.classes to that extension without this key is an error rather than an
//     unauthenticated server.
//   - rest.request.body.max.bytes: the request body limit (default 4 MiB).
//
// # TLS
//
// An https:// listener reads the ssl.* keys prefixed with listeners.https. (for admin listeners,
// admin.listeners.https.), or the worker's top-level ssl.* keys when none is prefixed, as upstream.
// Certificates are PEM, as with Kafka's ssl.keystore.type=PEM; JKS and PKCS12 stores are refused
// with a message saying how to convert them. The certificate and key come from, in this order:
//
//   - ssl.certificate.location and ssl.key.location (kconnect): separate PEM files;
//   - ssl.keystore.location: one PEM file with the private key and the certificate chain;
//   - ssl.keystore.key and ssl.keystore.certificate.chain: inline PEM, as Kafka.
//
// ssl.truststore.location (PEM CA certificates) or ssl.truststore.certificates with
// ssl.client.auth=requested|required verify client certificates; ssl.enabled.protocols
// (TLSv1.2, TLSv1.3) and ssl.cipher.suites (IANA names) restrict the handshake. Encrypted private
// keys (ssl.key.password) are not supported.
package rest
