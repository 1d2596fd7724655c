// Package offsets stores source connector offsets: the position in each source partition up to
// which records are safely in Kafka. Keys and values use Kafka Connect's formats: the key is the
// JSON array ["<connector>", {<source partition>}] and the value the JSON offset map, so offsets
// can move between kconnect and Kafka Connect.
package offsets

import (
	"context"
	"fmt"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// Store keeps the latest committed offset of every source partition of every connector.
type Store interface {
	// Get returns the offset of a connector's source partition, or nil if none is stored.
	Get(connector string, partition map[string]any) (map[string]any, error)
	// List returns every stored offset of a connector.
	List(connector string) ([]connect.SourceOffset, error)
	// Put stores offsets durably before returning; a nil Offset deletes the partition's entry.
	Put(ctx context.Context, connector string, offsets []connect.SourceOffset) error
	// Close releases the store.
	Close() error
}

// Key encodes the store key of a connector's source partition byte for byte as Kafka Connect's
// internal JsonConverter does for a partition built as a HashMap (what connectors do): Kafka
// Connect finds offsets by comparing key bytes, so a Java worker taking over finds these.
func Key(connector string, partition map[string]any) ([]byte, error) {
	var p any = partition
	if partition == nil {
		p = nil // a nil map is JSON null, as upstream writes a null partition
	}
	b, err := jsonconverter.AppendHashMapOrdered(nil, []any{connector, widen(p)})
	if err != nil {
		return nil, fmt.Errorf("encode offset key of %s: %w", connector, err)
	}
	return b, nil
}

// EncodeValue encodes an offset as Kafka Connect's internal JsonConverter does; a nil offset
// is a nil value (a tombstone).
func EncodeValue(offset map[string]any) ([]byte, error) {
	if offset == nil {
		return nil, nil
	}
	b, err := jsonconverter.AppendHashMapOrdered(nil, widen(offset))
	if err != nil {
		return nil, fmt.Errorf("encode offset: %w", err)
	}
	return b, nil
}

// ParseKey decodes a key written by Key (or by Kafka Connect).
func ParseKey(key []byte) (connector string, partition map[string]any, err error) {
	v, err := connect.DecodeJSON(key)
	if err != nil {
		return "", nil, fmt.Errorf("decode offset key %q: %w", key, err)
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != 2 {
		return "", nil, fmt.Errorf("offset key %q is not a [connector, partition] array", key)
	}
	connector, ok = arr[0].(string)
	if !ok {
		return "", nil, fmt.Errorf("offset key %q: connector name is not a string", key)
	}
	if arr[1] != nil {
		if partition, ok = arr[1].(map[string]any); !ok {
			return "", nil, fmt.Errorf("offset key %q: partition is not an object", key)
		}
	}
	return connector, partition, nil
}

// DecodeValue decodes an offset value; JSON null yields a nil map.
func DecodeValue(b []byte) (map[string]any, error) {
	if b == nil {
		return nil, nil
	}
	v, err := connect.DecodeJSON(b)
	if err != nil {
		return nil, fmt.Errorf("decode offset %q: %w", b, err)
	}
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("offset %q is not an object", b)
	}
	return m, nil
}

// widen returns v with Go's sized and unsized integers as int64 and float32 as float64: connectors
// build partitions and offsets from whatever Go numbers they hold (an int position, say), which
// Java would hold as Integer or Long, while the JSON encoder accepts only Connect's value types.
func widen(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = widen(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = widen(e)
		}
		return out
	}
	return v
}
