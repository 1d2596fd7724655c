package jsonconverter

import (
	"slices"

	"github.com/kconnect/kconnect/internal/javaser"
)

// schemaless is a converter with schemas.enable=false, as Kafka Connect configures the one for its
// internal topics.
var schemaless = func() *Converter {
	c := New()
	if err := c.Configure(map[string]string{SchemasEnableConfig: "false"}, false); err != nil {
		panic(err) // a valid constant configuration
	}
	return c
}()

// AppendHashMapOrdered appends v, a schemaless value, as Kafka's JsonConverter with
// schemas.enable=false writes it when every map in v is a java.util.HashMap with String keys:
// members in the order HashMap iterates them rather than sorted. Kafka Connect looks source
// offsets up by the bytes of their key, and connectors build source partitions as HashMaps, so
// offset keys written in this order are found by a Java worker. Keys that share a HashMap bucket
// iterate in insertion order, which a Go map does not keep; they are sorted among themselves.
func AppendHashMapOrdered(dst []byte, v any) ([]byte, error) {
	return schemaless.appendTo(dst, nil, v, true)
}

// sortHashMapOrder orders keys in place as a java.util.HashMap holding exactly these keys, put in
// sorted order, iterates them (see javaser.HashMapOrder).
func sortHashMapOrder(keys []string) {
	slices.Sort(keys)
	copy(keys, javaser.HashMapOrder(keys))
}
