package javaser

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The fixtures were written by Kafka Connect's FileOffsetBackingStore; see Gen.java there.
const fixtures = "../../runtime/offsets/testdata/kafkaconnect"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestEncodeMatchesJavaByteForByte(t *testing.T) {
	want := readFixture(t, "one.offsets")
	got, err := EncodeByteArrayMap([]Entry{{
		Key:   []byte(`["file-source",{"filename":"/tmp/in.txt"}]`),
		Value: []byte(`{"position":42}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoded\n%x\nJava wrote\n%x", got, want)
	}
}

func TestDecodeJavaFile(t *testing.T) {
	entries, err := DecodeByteArrayMap(readFixture(t, "many.offsets"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range entries {
		v := "null"
		if e.Value != nil {
			v = string(e.Value)
		}
		got[string(e.Key)] = v
	}
	want := map[string]string{
		`["file-source",{"filename":"/tmp/in.txt"}]`:      `{"position":42}`,
		`["jdbc",{"protocol":"1","table":"public.a"}]`:    `{"incrementing":1152921504606846976,"timestamp_nanos":5}`,
		`["jdbc",{"protocol":"1","table":"public.gone"}]`: "null",
		`["pg",{"server":"inventory"}]`:                   `{"lsn":24023128,"txId":555,"ts_usec":1700000000123456,"snapshot":true}`,
		`["naïve ☃",{"filename":"/tmp/ünïcode.txt"}]`:     `{"position":7}`,
	}
	if len(got) != len(want) {
		t.Fatalf("decoded %d entries, want %d: %v", len(got), len(want), got)
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing key %s", k)
			continue
		}
		// Java's HashMap orders the JSON object's fields by hash; compare them as sets.
		if !sameFields(g, v) {
			t.Errorf("%s = %s, want %s", k, g, v)
		}
	}
}

// sameFields reports whether two flat JSON objects have the same fields in any order.
func sameFields(a, b string) bool {
	split := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, f := range strings.Split(strings.Trim(s, "{}"), ",") {
			m[f] = true
		}
		return m
	}
	x, y := split(a), split(b)
	if len(x) != len(y) {
		return false
	}
	for f := range x {
		if !y[f] {
			return false
		}
	}
	return true
}

func TestRoundTrip(t *testing.T) {
	for _, entries := range [][]Entry{
		nil,
		{{Key: []byte("k"), Value: nil}, {Key: nil, Value: []byte("v")}, {Key: []byte{}, Value: []byte{}}},
		manyEntries(100), // past two table resizes
	} {
		data, err := EncodeByteArrayMap(entries)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeByteArrayMap(data)
		if err != nil {
			t.Fatalf("%d entries: %v", len(entries), err)
		}
		if len(got) != len(entries) {
			t.Fatalf("decoded %d entries, want %d", len(got), len(entries))
		}
		for i := range got {
			if !sameBytes(got[i].Key, entries[i].Key) || !sameBytes(got[i].Value, entries[i].Value) {
				t.Fatalf("entry %d = %q, want %q", i, got[i], entries[i])
			}
		}
	}
}

// sameBytes tells null from an empty array, as Java does.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func manyEntries(n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		out[i] = Entry{Key: []byte{byte(i), 'k'}, Value: bytes.Repeat([]byte{'v'}, i)}
	}
	return out
}

func TestHashMapSizingMatchesJava(t *testing.T) {
	// Table lengths of a default HashMap after n puts: it doubles once size exceeds 3/4 of it.
	for _, c := range []struct{ n, buckets, threshold int }{
		{0, 16, 0}, {1, 16, 12}, {12, 16, 12}, {13, 32, 24}, {24, 32, 24}, {25, 64, 48},
	} {
		if b, th := hashMapSizing(c.n); b != c.buckets || th != c.threshold {
			t.Errorf("hashMapSizing(%d) = %d, %d; want %d, %d", c.n, b, th, c.buckets, c.threshold)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	java := readFixture(t, "many.offsets")
	// Every truncation is an error, never a shorter map.
	for n := range len(java) {
		if _, err := DecodeByteArrayMap(java[:n]); err == nil {
			t.Fatalf("a stream cut to %d of %d bytes decoded without error", n, len(java))
		}
	}
	if _, err := DecodeByteArrayMap(append(bytes.Clone(java), 0x70)); err == nil || !strings.Contains(err.Error(), "after the map") {
		t.Errorf("trailing bytes: err = %v", err)
	}
	one := readFixture(t, "one.offsets")
	cases := map[string]struct {
		data []byte
		want string
	}{
		"json":          {[]byte(`[{"key":1}]`), "not a Java serialization stream"},
		"version":       {[]byte{0xAC, 0xED, 0, 4}, "version 4"},
		"other class":   {bytes.Replace(one, []byte("java.util.HashMap"), []byte("java.util.TreeMap"), 1), "found java.util.TreeMap"},
		"array class":   {bytes.Replace(one, []byte("[B"), []byte("[C"), 1), "array of class [C"},
		"string value":  {replaceValue(one, []byte{tcString, 0, 2, 'h', 'i'}), `found the string "hi"`},
		"dangling ref":  {bytes.Replace(one, []byte{tcReference, 0, 0x7E, 0, 2}, []byte{tcReference, 0, 0x7E, 0, 9}, 1), "unknown handle"},
		"negative size": {bytes.Replace(one, []byte{0, 0, 0, 16, 0, 0, 0, 1}, []byte{0, 0, 0, 16, 0xFF, 0xFF, 0xFF, 0xFF}, 1), "negative"},
	}
	for name, c := range cases {
		_, err := DecodeByteArrayMap(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want one containing %q", name, err, c.want)
		}
	}
}

// replaceValue swaps the one value of one.offsets (the last array) for obj.
func replaceValue(one []byte, obj []byte) []byte {
	i := bytes.LastIndex(one, []byte{tcArray, tcReference})
	return append(append(bytes.Clone(one[:i]), obj...), tcEndBlockData)
}

func TestHashMapOrderMatchesJava(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(string(readFixture(t, "hashorder.txt")), "\n"), "\n")
	if len(lines) < 2 || len(lines)%2 != 0 {
		t.Fatalf("hashorder.txt has %d lines, want pairs", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		put, want := strings.Split(lines[i], "\t"), strings.Split(lines[i+1], "\t")
		if got := HashMapOrder(put); !slices.Equal(got, want) {
			t.Errorf("HashMapOrder(%q) = %q, Java iterates %q", put, got, want)
		}
	}
}
