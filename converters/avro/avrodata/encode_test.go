package avrodata

import (
	"encoding/hex"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// TestEncodeCollections pins what the golden cases leave open: maps and arrays of several
// entries, whose order must follow the keys' encodings so that equal maps encode to equal bytes,
// and where in a collection an encoding error happened. The bytes are derived by hand from the
// Avro specification (zig-zag varints, blocks ended by a zero count).
func TestEncodeCollections(t *testing.T) {
	d := newData(t, nil)
	entryMap := build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema))
	stringMap := build(connect.MapBuilder(connect.StringSchema, connect.Int32Schema))
	array := build(connect.ArrayBuilder(connect.Int32Schema))
	for _, c := range []struct {
		name   string
		schema *connect.Schema
		value  any
		hex    string // the encoding, or
		err    string // the error
	}{
		// Key 1 encodes as 02 and key -2 as 03: 1 first, though -2 is the smaller number.
		{"entry map in key encoding order", entryMap, map[any]any{int32(-2): "b", int32(1): "a"}, "04" + "02" + "0261" + "03" + "0262" + "00", ""},
		{"string map in key order", stringMap, map[string]any{"b": int32(2), "a": int32(1)}, "04" + "0261" + "02" + "0262" + "04" + "00", ""},
		{"empty entry map", entryMap, map[any]any{}, "00", ""},
		{"array", array, []any{int32(1), int32(-1)}, "04" + "02" + "01" + "00", ""},
		// The Anything record: nine optional fields (boolean, bytes, double, float, int, long,
		// string, array, map), 00 for null, 02 then the value for the one set.
		{"schemaless map in key encoding order", nil, map[string]any{"b": int64(2), "a": int64(1)},
			"0000000000000000" + "02" + "04" +
				"000000000000" + "02" + "0261" + "0000" + "0000000000" + "02" + "02" + "000000" +
				"000000000000" + "02" + "0262" + "0000" + "0000000000" + "02" + "04" + "000000" +
				"00", ""},
		{"schemaless array", nil, []any{true},
			"00000000000000" + "02" + "02" + "02" + "01" + "0000000000000000" + "00" + "00", ""},
		{"array element error", array, []any{int32(1), "x"}, "", "field [1]: invalid value of Go type string"},
		{"entry map value error", build(connect.MapBuilder(connect.Int32Schema, connect.Int32Schema)), map[any]any{int32(5): "x"}, "", `field ["5"]: invalid value of Go type string`},
		{"entry map key error", entryMap, map[any]any{"k": "v"}, "", "field key: invalid value of Go type string"},
		{"string map value error", stringMap, map[string]any{"a": "x"}, "", `field ["a"]: invalid value of Go type string`},
		{"schemaless array element error", nil, []any{int64(1), []byte{1}}, "", "field [1]: a value of Go type []uint8 without schema"},
		{"schemaless map key error", nil, map[any]any{uint8(1): int64(1)}, "", "field key: a value of Go type uint8 without schema"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := anything
			if c.schema != nil {
				var err error
				if a, err = d.FromConnectSchema(c.schema); err != nil {
					t.Fatal(err)
				}
			}
			enc, err := d.Encoder(c.schema, a)
			if err != nil {
				t.Fatal(err)
			}
			got, err := enc.Append(nil, c.value)
			if c.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), c.err) {
					t.Fatalf("error %v, want one starting %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(got) != c.hex {
				t.Fatalf("encoded %x, want %s", got, c.hex)
			}
		})
	}
}

// TestMapDefaultOrder pins the order of a map default's entries in the schema text: that of
// their keys' JSON ("-2" before "1"), whatever the map's iteration order.
func TestMapDefaultOrder(t *testing.T) {
	d := newData(t, nil)
	s := build(connect.MapBuilder(connect.Int32Schema, connect.StringSchema))
	for range 5 {
		got, err := d.defaultJSON(s, map[any]any{int32(1): "a", int32(-2): "b", int32(30): "c"}, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := `[[-2,"b"],[1,"a"],[30,"c"]]`; string(got) != want {
			t.Fatalf("default %s, want %s", got, want)
		}
	}
	if _, err := d.defaultJSON(s, []any{1}, true); err == nil || !strings.Contains(err.Error(), "invalid []interface {} for a map default") {
		t.Fatalf("error %v for a slice as map default", err)
	}
}
