// Package offsets stores source connector offsets: the position in each source partition up to
// which records are safely in Kafka. Keys and values use Kafka Connect's formats: the key is the
// JSON array ["<connector>", {<source partition>}] and the value the JSON offset map, so offsets
// can move between kconnect and Kafka Connect.
package offsets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/javaser"
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

// Key encodes the store key of a connector's source partition as Kafka Connect does.
// encoding/json sorts map keys, which makes the key deterministic for equal partitions.
func Key(connector string, partition map[string]any) ([]byte, error) {
	b, err := json.Marshal([]any{connector, partition})
	if err != nil {
		return nil, fmt.Errorf("encode offset key of %s: %w", connector, err)
	}
	return b, nil
}

// KafkaConnectKey encodes the key of a connector's source partition byte for byte as Kafka
// Connect's JsonConverter does for a partition held in a java.util.HashMap: object fields in
// HashMap iteration order (nested objects too) and no HTML escaping. Kafka Connect looks offsets
// up by their exact key bytes, and rebuilds the partitions it lists from a file as HashMaps, so
// this is the form a key must be written in for Kafka Connect to find it again. Key stays the
// canonical form for lookups inside kconnect.
func KafkaConnectKey(connector string, partition map[string]any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	if err := appendJavaJSON(&b, connector); err != nil {
		return nil, fmt.Errorf("encode offset key of %s: %w", connector, err)
	}
	b.WriteByte(',')
	if err := appendJavaJSON(&b, partition); err != nil {
		return nil, fmt.Errorf("encode offset key of %s: %w", connector, err)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

func appendJavaJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, k := range javaser.HashMapOrder(connect.SortedKeys(v)) {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendJavaJSON(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := appendJavaJSON(b, v[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendJavaJSON(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false) // Jackson writes <, > and & as they are
		if err := e.Encode(v); err != nil {
			return err
		}
		b.Write(bytes.TrimSuffix(enc.Bytes(), []byte("\n")))
	}
	return nil
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
