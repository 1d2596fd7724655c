package jsonconverter

import (
	"cmp"
	"slices"
	"unicode/utf16"
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

// sortHashMapOrder orders keys as a java.util.HashMap holding exactly these keys iterates them:
// by bucket index (the spread String.hashCode masked by the table size), then, within a bucket,
// by key. The table starts at 16 buckets and doubles whenever the entries exceed 3/4 of it, as
// a HashMap filled by put (or copied from another map of that size) does.
func sortHashMapOrder(keys []string) {
	size := uint32(16)
	for uint64(len(keys)) > uint64(size)*3/4 {
		size <<= 1
	}
	bucket := func(k string) uint32 {
		h := javaStringHash(k)
		return (h ^ h>>16) & (size - 1)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(bucket(a), bucket(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

// javaStringHash is Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1] over UTF-16 code units,
// in 32-bit arithmetic.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			h = 31*h + uint32(hi)
			h = 31*h + uint32(lo)
			continue
		}
		h = 31*h + uint32(r)
	}
	return h
}
