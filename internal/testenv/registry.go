package testenv

import "testing"

// SchemaRegistry returns the URL of a Confluent-compatible schema registry that enforces
// compatibility (KCONNECT_TEST_SCHEMA_REGISTRY; scripts/schema-registry.sh provisions Apicurio
// Registry with its global rule set to BACKWARD). Tests share it: use subjects of their own.
func SchemaRegistry(t testing.TB) string {
	t.Helper()
	return Require(t, envSchemaRegistry)
}

// AvroPython returns a Python interpreter that has confluent-kafka and fastavro
// (KCONNECT_TEST_AVRO_PYTHON; scripts/schema-registry.sh provisions a venv): an Avro client
// nobody here wrote, to check kconnect's Avro against.
func AvroPython(t testing.TB) string {
	t.Helper()
	return Require(t, envAvroPython)
}
