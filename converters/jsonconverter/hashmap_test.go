package jsonconverter

import (
	"slices"
	"testing"
)

// The orders are what Java 17 printed for new HashMap<String, Object>() filled with these keys
// (HashMap.keySet()). None of the cases has two keys in one bucket, whose order would depend on
// the order of insertion.
func TestSortHashMapOrderFollowsJavaHashMap(t *testing.T) {
	for _, want := range [][]string{
		{"protocol", "table"},
		{"protocol", "query"},
		{"kafka_partition", "kafka_topic"},
		{"server"},
		// 14 keys: the table has grown to 32 buckets.
		{"zz", "a", "lsn_proc", "b", "c", "lsn", "txId", "filename", "last_snapshot_record", "x1", "x2", "position", "ts_usec", "snapshot"},
		// Non-BMP characters hash as their two UTF-16 code units.
		{"zz", "\U0001F600", "\u00e9t\u00e9"},
	} {
		keys := slices.Clone(want)
		slices.Reverse(keys)
		sortHashMapOrder(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("sortHashMapOrder = %q, want Java's %q", keys, want)
		}
	}
}

func TestAppendHashMapOrderedNestsAndEscapesAsJsonConverter(t *testing.T) {
	got, err := AppendHashMapOrdered([]byte("x"), []any{"c<&>", map[string]any{
		"table": "t", "protocol": "1", "m": int64(3), "f": 1.0, "nested": map[string]any{"table": nil, "protocol": true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// What Kafka 4.3.1's JsonConverter wrote for the same HashMaps.
	want := `x["c<&>",{"protocol":"1","f":1.0,"m":3,"nested":{"protocol":true,"table":null},"table":"t"}]`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
