package connect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// OffsetInt64 reads an integer field of a source offset. Offsets travel through JSON, so the value
// may arrive as any Go number type; this accepts them all and rejects fractions.
func OffsetInt64(offset map[string]any, key string) (int64, bool, error) {
	v, ok := offset[key]
	if !ok || v == nil {
		return 0, false, nil
	}
	switch n := v.(type) {
	case int:
		return int64(n), true, nil
	case int32:
		return int64(n), true, nil
	case int64:
		return n, true, nil
	case uint64:
		if n > math.MaxInt64 {
			return 0, false, fmt.Errorf("offset field %s: %d overflows int64", key, n)
		}
		return int64(n), true, nil
	case float64:
		if n != math.Trunc(n) {
			return 0, false, fmt.Errorf("offset field %s: %v is not an integer", key, n)
		}
		return int64(n), true, nil
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return 0, false, fmt.Errorf("offset field %s: %w", key, err)
		}
		return i, true, nil
	}
	return 0, false, fmt.Errorf("offset field %s: %v (%T) is not a number", key, v, v)
}

// DecodeJSON decodes a JSON document as Kafka's schemaless JsonConverter would: objects become
// map[string]any, integral numbers int64 and other numbers float64. Offsets and partitions are
// stored this way, so connectors see the same types from every offset store.
func DecodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return normalizeNumbers(v), nil
}

func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
	}
	return v
}
