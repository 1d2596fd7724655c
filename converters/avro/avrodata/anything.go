package avrodata

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/hamba/avro/v2"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/fieldpath"
)

// anythingText is upstream's Avro schema for values without a Connect schema: a record with one
// optional field per kind of value, arrays and maps of itself (maps as key/value records).
const anythingText = `{"type":"record","name":"Anything","namespace":"io.confluent.connect.avro","fields":[` +
	`{"name":"boolean","type":["null","boolean"],"default":null},{"name":"bytes","type":["null","bytes"],"default":null},` +
	`{"name":"double","type":["null","double"],"default":null},{"name":"float","type":["null","float"],"default":null},` +
	`{"name":"int","type":["null","int"],"default":null},{"name":"long","type":["null","long"],"default":null},` +
	`{"name":"string","type":["null","string"],"default":null},` +
	`{"name":"array","type":["null",{"type":"array","items":"Anything"}],"default":null},` +
	`{"name":"map","type":["null",{"type":"array","items":{"type":"record","name":"MapEntry","fields":[` +
	`{"name":"key","type":"Anything"},{"name":"value","type":"Anything"}]}}],"default":null}]}`

// anything is the parsed anythingText, shared: schemas are not modified once built.
var anything = func() *Schema {
	s, err := Parse(anythingText)
	if err != nil {
		panic(err)
	}
	return s
}()

// The fields of the Anything record, in order.
const (
	anyBoolean = iota
	anyBytes
	anyDouble
	anyFloat
	anyInt
	anyLong
	anyString
	anyArray
	anyMap
	anyFields
)

// anythingArray writes the arrays of values without schema, with the code of arrays with one.
var anythingArray = &encNode{kind: encArray, inner: &encNode{kind: encAnything}}

// isAnything reports whether a is upstream's schema of schemaless values.
func isAnything(a *Schema) bool {
	return a.Type == Record && a.Name == anything.Name && equalSchemas(a, anything, map[[2]*Schema]bool{})
}

// writeAnything writes a schemaless value in the Anything record: the field of the value's kind
// set, the others null. Like upstream it refuses bytes and logical values, which have no kind.
func writeAnything(w *avro.Writer, v any) error {
	slot := -1
	switch v.(type) {
	case nil:
	case bool:
		slot = anyBoolean
	case float64:
		slot = anyDouble
	case float32:
		slot = anyFloat
	case int8, int16, int32:
		slot = anyInt
	case int64:
		slot = anyLong
	case string:
		slot = anyString
	case []any:
		slot = anyArray
	case map[string]any, map[any]any:
		slot = anyMap
	default:
		return &connect.DataError{Msg: fmt.Sprintf("a value of Go type %T without schema cannot be written as Avro", v)}
	}
	for i := range anyFields {
		if i != slot {
			w.WriteLong(0)
			continue
		}
		w.WriteLong(1)
		switch x := v.(type) {
		case bool:
			w.WriteBool(x)
		case float64:
			w.WriteDouble(x)
		case float32:
			w.WriteFloat(x)
		case int64:
			w.WriteLong(x)
		case string:
			w.WriteString(x)
		case []any:
			if err := anythingArray.write(w, x); err != nil {
				return err
			}
		case map[string]any, map[any]any:
			entries, _, err := sortedEntries(x, avroKey(writeAnything))
			if err != nil {
				return err
			}
			if err := writeEntries(w, entries, func(w *avro.Writer, e mapEntry) error { return writeAnything(w, e.v) }); err != nil {
				return err
			}
		default:
			n, _ := connect.IntegerValue(x)
			w.WriteInt(int32(n))
		}
	}
	return nil
}

// readAnything reads an Anything record: the first field set, in field order, is the value.
func readAnything(r *reader) (any, error) {
	var out any
	found := false
	for i := range anyFields {
		switch idx := r.long(); {
		case r.err != nil:
			return nil, r.err
		case idx == 0:
			continue
		case idx != 1:
			return nil, fmt.Errorf("union branch %d of 2", idx)
		}
		var v any
		switch i {
		case anyBoolean:
			b := r.next(1)
			if b == nil || b[0] > 1 {
				return nil, fmt.Errorf("invalid Avro boolean")
			}
			v = b[0] == 1
		case anyBytes:
			v = append([]byte{}, r.bytes()...)
		case anyDouble:
			if b := r.next(8); b != nil {
				v = math.Float64frombits(binary.LittleEndian.Uint64(b))
			}
		case anyFloat:
			if b := r.next(4); b != nil {
				v = math.Float32frombits(binary.LittleEndian.Uint32(b))
			}
		case anyInt:
			v = r.int()
		case anyLong:
			v = r.long()
		case anyString:
			v = string(r.bytes())
		case anyArray:
			arr, err := readAnythingArray(r)
			if err != nil {
				return nil, err
			}
			v = arr
		case anyMap:
			m, err := readAnythingMap(r)
			if err != nil {
				return nil, err
			}
			v = m
		}
		if r.err != nil {
			return nil, r.err
		}
		if !found {
			out, found = v, true
		}
	}
	return out, nil
}

func readAnythingArray(r *reader) ([]any, error) {
	out := []any{}
	for {
		c := r.count(anyFields)
		if r.err != nil || c == 0 {
			return out, r.err
		}
		out = slices.Grow(out, c)
		for range c {
			v, err := readAnything(r)
			if err != nil {
				return nil, fieldpath.AtIndex(len(out), err)
			}
			out = append(out, v)
		}
	}
}

// readAnythingMap returns map[string]any when every key is a string, as schemaless JSON maps are,
// and map[any]any otherwise.
func readAnythingMap(r *reader) (any, error) {
	var keys, values []any
	allStrings := true
	for {
		c := r.count(2 * anyFields)
		if r.err != nil {
			return nil, r.err
		}
		if c == 0 {
			break
		}
		for range c {
			k, err := readAnything(r)
			if err != nil {
				return nil, fieldpath.InField("key", err)
			}
			switch k.(type) {
			case []byte, []any, map[string]any, map[any]any:
				return nil, fmt.Errorf("map keys of Go type %T cannot be Go map keys", k)
			}
			v, err := readAnything(r)
			if err != nil {
				return nil, fieldpath.AtKey(fmt.Sprint(k), err)
			}
			_, isString := k.(string)
			allStrings = allStrings && isString
			keys, values = append(keys, k), append(values, v)
		}
	}
	if allStrings {
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			m[k.(string)] = values[i]
		}
		return m, nil
	}
	m := make(map[any]any, len(keys))
	for i, k := range keys {
		m[k] = values[i]
	}
	return m, nil
}
