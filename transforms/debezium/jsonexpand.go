package debezium

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// jsonExpander turns a JSON text payload into a struct with a schema inferred from the JSON, as
// Debezium's JsonSchemaData does for table.expand.json.payload: objects become optional structs
// named after their path, integers int32 or int64 by size, other numbers float64, and the
// elements of an array share one schema (objects' schemas merged).
type jsonExpander struct {
	keepNulls bool // table.json.payload.null.behavior=optional_bytes
}

// jsonNode is a parsed JSON value that keeps the order of object members.
type jsonNode struct {
	kind    byte // '{' object, '[' array, 's' string, 'n' number, 'b' boolean, '0' null
	members []jsonMember
	items   []*jsonNode
	text    string // string contents or number literal
	boolean bool
}

type jsonMember struct {
	name  string
	value *jsonNode
}

func (e *jsonExpander) expand(key, text string) (*connect.Schema, any, error) {
	if !strings.HasPrefix(text, "{") {
		// Debezium also accepts a top-level array, then fails to build a struct from it.
		return nil, nil, fmt.Errorf("Unable to parse payload starting with '%c'", []rune(text + " ")[0])
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	node, err := parseJSONNode(dec)
	if err != nil {
		return nil, nil, err
	}
	schema, err := e.schemaOf(key, node)
	if err != nil {
		return nil, nil, err
	}
	value, err := e.valueOf(node, schema)
	if err != nil {
		return nil, nil, err
	}
	return schema, value, nil
}

func parseJSONNode(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch x := tok.(type) {
	case json.Delim:
		switch x {
		case '{':
			n := &jsonNode{kind: '{'}
			for dec.More() {
				nameTok, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := parseJSONNode(dec)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, jsonMember{nameTok.(string), v})
			}
			_, err := dec.Token()
			return n, err
		case '[':
			n := &jsonNode{kind: '['}
			for dec.More() {
				v, err := parseJSONNode(dec)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			_, err := dec.Token()
			return n, err
		}
	case string:
		return &jsonNode{kind: 's', text: x}, nil
	case json.Number:
		return &jsonNode{kind: 'n', text: x.String()}, nil
	case bool:
		return &jsonNode{kind: 'b', boolean: x}, nil
	case nil:
		return &jsonNode{kind: '0'}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// numberSchema classifies a number as Jackson does: int when it fits 32 bits, long when 64,
// otherwise a double.
func numberSchema(literal string) *connect.Schema {
	if !strings.ContainsAny(literal, ".eE") {
		if n, err := strconv.ParseInt(literal, 10, 64); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return connect.OptionalInt32Schema
			}
			return connect.OptionalInt64Schema
		}
	}
	return connect.OptionalFloat64Schema
}

// schemaOf infers a schema; nil means the value adds no field (a null, or an empty array).
func (e *jsonExpander) schemaOf(key string, n *jsonNode) (*connect.Schema, error) {
	switch n.kind {
	case 's':
		return connect.OptionalStringSchema, nil
	case 'b':
		return connect.OptionalBooleanSchema, nil
	case 'n':
		return numberSchema(n.text), nil
	case '0':
		if e.keepNulls {
			return connect.OptionalBytesSchema, nil
		}
		return nil, nil
	case '[':
		if len(n.items) == 0 {
			return nil, nil
		}
		elem, err := e.elementSchema(key, n)
		if err != nil {
			return nil, err
		}
		return connect.ArrayBuilder(elem).Optional().Build()
	}
	b := connect.StructBuilder().Name(key).Optional()
	seen := map[string]bool{}
	for _, m := range n.members {
		fieldKey := m.name
		if strings.TrimSpace(key) != "" {
			fieldKey = key + "." + m.name
		}
		fs, err := e.schemaOf(fieldKey, m.value)
		if err != nil {
			return nil, err
		}
		if fs != nil && !seen[m.name] {
			seen[m.name] = true
			b.Field(m.name, fs)
		}
	}
	return b.Build()
}

// elementSchema is the schema all elements of a non-empty array share.
func (e *jsonExpander) elementSchema(key string, arr *jsonNode) (*connect.Schema, error) {
	var sample *jsonNode
	var sampleSchema *connect.Schema
	for _, it := range arr.items {
		if it.kind == '0' {
			continue
		}
		if sample == nil {
			sample = it
		}
		if it.kind != sample.kind {
			return nil, fmt.Errorf("Field is not a homogenous array (%s x %s).", sample.text, jsonKindName(it.kind))
		}
		if sample.kind == 'n' {
			if sampleSchema == nil {
				sampleSchema = numberSchema(sample.text)
			}
			if s := numberSchema(it.text); s != sampleSchema {
				return nil, fmt.Errorf("Field is not a homogenous array (%s x %s), different number types (%s x %s)", sample.text, it.text, sampleSchema, s)
			}
		}
	}
	if sample == nil || sample.kind != '{' {
		var s *connect.Schema
		var err error
		if sample != nil {
			s, err = e.schemaOf("", sample)
		}
		if err == nil && s == nil {
			err = fmt.Errorf("Array '' has unrecognized member schema.")
		}
		return s, err
	}
	// Distinct object schemas, merged in order of appearance. (Debezium merges them in the order
	// of a hash set, which varies between JVM runs when elements differ in their members.)
	var merged *connect.Schema
	var distinct []*connect.Schema
	for _, it := range arr.items {
		if it.kind != '{' {
			continue
		}
		s, err := e.schemaOf(key, it)
		if err != nil {
			return nil, err
		}
		dup := false
		for _, d := range distinct {
			if d.Equal(s) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		distinct = append(distinct, s)
		if merged == nil {
			merged = s
			continue
		}
		if merged, err = mergeStructSchemas(merged, s); err != nil {
			return nil, err
		}
	}
	return merged, nil
}

// mergeStructSchemas unites the fields of two struct schemas; a field first seen as bytes (a
// kept null) takes the other schema's type.
func mergeStructSchemas(left, right *connect.Schema) (*connect.Schema, error) {
	fields := append([]connect.Field(nil), left.Fields...)
	for _, f := range right.Fields {
		i := -1
		for j := range fields {
			if fields[j].Name == f.Name {
				i = j
				break
			}
		}
		switch {
		case i < 0:
			fields = append(fields, f)
		case !fields[i].Schema.Equal(f.Schema) && fields[i].Schema.Type == connect.TypeBytes && f.Schema.Type != connect.TypeBytes:
			fields[i] = f
		}
	}
	b := connect.StructBuilder().Name(left.Name).Version(left.Version).Doc(left.Doc)
	for _, f := range fields {
		b.Field(f.Name, f.Schema)
	}
	return b.Build()
}

func jsonKindName(k byte) string {
	return map[byte]string{'{': "OBJECT", '[': "ARRAY", 's': "STRING", 'n': "NUMBER", 'b': "BOOLEAN", '0': "NULL"}[k]
}

// valueOf converts a node to a value of schema.
func (e *jsonExpander) valueOf(n *jsonNode, schema *connect.Schema) (any, error) {
	switch n.kind {
	case 's':
		return n.text, nil
	case 'b':
		return n.boolean, nil
	case 'n':
		switch numberSchema(n.text) {
		case connect.OptionalInt32Schema:
			v, _ := strconv.ParseInt(n.text, 10, 32)
			return int32(v), nil
		case connect.OptionalInt64Schema:
			return strconv.ParseInt(n.text, 10, 64)
		}
		return strconv.ParseFloat(n.text, 64)
	case '[':
		out := make([]any, len(n.items))
		for i, it := range n.items {
			v, err := e.valueOf(it, schema.ValSchema)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case '{':
		st := connect.NewStruct(schema)
		for _, f := range schema.Fields {
			var member *jsonNode
			for _, m := range n.members {
				if m.name == f.Name {
					member = m.value // the last of repeated names wins, as in Jackson
				}
			}
			if member == nil {
				continue
			}
			v, err := e.valueOf(member, f.Schema)
			if err != nil {
				return nil, err
			}
			if err := st.PutAt(f.Index, v); err != nil {
				return nil, err
			}
		}
		return st, nil
	}
	return nil, nil
}
