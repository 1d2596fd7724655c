package offsets

import "testing"

// Connectors hand the runtime partitions and offsets holding any Go number; the encoded bytes are
// those of the same values as int64 and float64, as Java writes an Integer or a Long.
func TestKeyAndValueAcceptGoNumbers(t *testing.T) {
	key, err := Key("c", map[string]any{"p": 7, "q": []any{int32(1), float32(0.5)}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := Key("c", map[string]any{"p": int64(7), "q": []any{int64(1), float64(0.5)}})
	if err != nil {
		t.Fatal(err)
	}
	if string(key) != string(want) {
		t.Errorf("Key = %s, want %s", key, want)
	}
	val, err := EncodeValue(map[string]any{"pos": uint16(3)})
	if err != nil || string(val) != `{"pos":3}` {
		t.Errorf("EncodeValue = %s, %v; want {\"pos\":3}", val, err)
	}
}
