package javaser

import (
	"slices"
	"unicode/utf16"
)

// HashMapOrder returns keys in the order a java.util.HashMap[String, ?] created empty and filled
// by put calls in the given order iterates them: by bucket of the spread String.hashCode, and
// within a bucket in insertion order. Kafka Connect looks offsets up by the bytes of a JSON key
// built from such a map, so kconnect writes partition fields in this order for Java to find them.
// Buckets holding eight or more colliding keys, which Java turns into trees, are not modelled.
func HashMapOrder(keys []string) []string {
	buckets, _ := hashMapSizing(len(keys))
	out := slices.Clone(keys)
	slices.SortStableFunc(out, func(a, b string) int {
		return bucket(a, buckets) - bucket(b, buckets)
	})
	return out
}

func bucket(s string, buckets int) int {
	h := javaStringHash(s)
	return int((h ^ h>>16) & uint32(buckets-1))
}

// javaStringHash is String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}
