package jsonconverter

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/fieldpath"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
	"github.com/kconnect/kconnect/internal/lru"
)

// jsonTypeNames are the type names of the JSON schema, which differ from Connect's for floats.
var jsonTypeNames = [...]string{
	connect.TypeInt8: "int8", connect.TypeInt16: "int16", connect.TypeInt32: "int32",
	connect.TypeInt64: "int64", connect.TypeFloat32: "float", connect.TypeFloat64: "double",
	connect.TypeBoolean: "boolean", connect.TypeString: "string", connect.TypeBytes: "bytes",
	connect.TypeArray: "array", connect.TypeMap: "map", connect.TypeStruct: "struct",
}

func typeByJSONName(name string) (connect.Type, bool) {
	for t, n := range jsonTypeNames {
		if n != "" && n == name {
			return connect.Type(t), true
		}
	}
	return 0, false
}

// schema writes s as upstream's JsonConverter.asJsonSchema lays it out, from the cache when this
// schema was written before.
func (e *encoder) schema(s *connect.Schema) error {
	if last := e.c.lastRendered.Load(); last != nil && last.schema == s {
		e.buf = append(e.buf, last.raw...)
		return nil
	}
	if cached, ok := e.c.renderCache.Get(s); ok {
		e.buf = append(e.buf, cached...)
		e.c.lastRendered.Store(&rawSchema{raw: cached, schema: s})
		return nil
	}
	start := len(e.buf)
	if err := e.renderSchema(s, "", false); err != nil {
		return err
	}
	if e.c.renderCache.Cap() > 0 { // schemas.cache.size=0 turns every kind of schema caching off
		rendered := append([]byte(nil), e.buf[start:]...)
		e.c.renderCache.Put(s, rendered)
		e.c.lastRendered.Store(&rawSchema{raw: rendered, schema: s})
	}
	return nil
}

// renderSchema writes the members in upstream's order: type, then items / keys+values / fields,
// then optional, name, version, doc, parameters, default, and for a struct field its name last.
func (e *encoder) renderSchema(s *connect.Schema, field string, isField bool) error {
	if s == nil {
		e.null()
		return nil
	}
	if int(s.Type) >= len(jsonTypeNames) || jsonTypeNames[s.Type] == "" {
		return dataErr("unsupported schema type %s", s.Type)
	}
	e.buf = append(e.buf, `{"type":"`...)
	e.buf = append(e.buf, jsonTypeNames[s.Type]...)
	e.buf = append(e.buf, '"')
	switch s.Type {
	case connect.TypeArray:
		e.buf = append(e.buf, `,"items":`...)
		if err := e.renderSchema(s.ValSchema, "", false); err != nil {
			return err
		}
	case connect.TypeMap:
		e.buf = append(e.buf, `,"keys":`...)
		if err := e.renderSchema(s.KeySchema, "", false); err != nil {
			return err
		}
		e.buf = append(e.buf, `,"values":`...)
		if err := e.renderSchema(s.ValSchema, "", false); err != nil {
			return err
		}
	case connect.TypeStruct:
		e.buf = append(e.buf, `,"fields":[`...)
		for i := range s.Fields {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.renderSchema(s.Fields[i].Schema, s.Fields[i].Name, true); err != nil {
				return fieldpath.InField(s.Fields[i].Name, err)
			}
		}
		e.buf = append(e.buf, ']')
	}
	e.buf = append(e.buf, `,"optional":`...)
	e.buf = strconv.AppendBool(e.buf, s.Optional)
	if s.Name != "" {
		e.buf = append(e.buf, `,"name":`...)
		e.buf = javafmt.AppendJSONString(e.buf, s.Name)
	}
	if s.Version != 0 {
		e.buf = append(e.buf, `,"version":`...)
		e.buf = strconv.AppendInt(e.buf, int64(s.Version), 10)
	}
	if s.Doc != "" {
		e.buf = append(e.buf, `,"doc":`...)
		e.buf = javafmt.AppendJSONString(e.buf, s.Doc)
	}
	if len(s.Parameters) > 0 {
		e.buf = append(e.buf, `,"parameters":{`...)
		for i, p := range s.Parameters {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = javafmt.AppendJSONString(e.buf, p.Key)
			e.buf = append(e.buf, ':')
			e.buf = javafmt.AppendJSONString(e.buf, p.Value)
		}
		e.buf = append(e.buf, '}')
	}
	if s.Default != nil {
		e.buf = append(e.buf, `,"default":`...)
		if err := e.value(s, s.Default); err != nil {
			return fmt.Errorf("default value: %w", err)
		}
	}
	if isField {
		e.buf = append(e.buf, `,"field":`...)
		e.buf = javafmt.AppendJSONString(e.buf, field)
	}
	e.buf = append(e.buf, '}')
	return nil
}

// parseSchema turns a JSON schema into a Connect schema, from the cache when the same bytes were
// parsed before, so a stream of records with one schema parses it once.
func (c *Converter) parseSchema(raw []byte) (*connect.Schema, error) {
	if s, ok := lru.GetBytes(c.parseCache, raw); ok {
		return s, nil
	}
	d := decoder{c: c, data: raw}
	n, err := d.node()
	if err != nil {
		return nil, err
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	s, err := c.schemaFromNode(n, raw)
	if err != nil {
		return nil, err
	}
	c.parseCache.Put(string(raw), s)
	if c.parseCache.Cap() > 0 { // schemas.cache.size=0 turns every kind of schema caching off
		c.lastSchema.Store(&rawSchema{raw: bytes.Clone(raw), schema: s})
	}
	return s, nil
}

// node is a parsed JSON value, used only for schemas (cached, so speed matters little). Objects
// keep their members in order of first appearance, a repeated name taking the last value, as
// Jackson's ObjectNode does; parameters keep that order.
type node struct {
	kind       byte // one of { [ " 0 (number) t f n
	text       string
	integral   bool // a number without fraction or exponent
	members    []member
	elems      []*node
	start, end int
}

type member struct {
	name string
	val  *node
}

func (n *node) get(name string) *node {
	if n == nil || n.kind != '{' {
		return nil
	}
	for _, m := range n.members {
		if m.name == name {
			return m.val
		}
	}
	return nil
}

func (d *decoder) node() (*node, error) {
	c, err := d.peek()
	if err != nil {
		return nil, err
	}
	n := &node{kind: c, start: d.pos}
	switch c {
	case '{':
		if err := d.enter(); err != nil {
			return nil, err
		}
		more, err := d.first('}')
		for ; more && err == nil; more, err = d.next('}') {
			name, err := d.memberName()
			if err != nil {
				return nil, err
			}
			key := string(name)
			val, err := d.node()
			if err != nil {
				return nil, err
			}
			replaced := false
			for i := range n.members {
				if n.members[i].name == key {
					n.members[i].val, replaced = val, true
				}
			}
			if !replaced {
				n.members = append(n.members, member{key, val})
			}
		}
		if err != nil {
			return nil, err
		}
	case '[':
		if err := d.enter(); err != nil {
			return nil, err
		}
		more, err := d.first(']')
		for ; more && err == nil; more, err = d.next(']') {
			val, err := d.node()
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, val)
		}
		if err != nil {
			return nil, err
		}
	case '"':
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		n.text = string(b)
	case 't':
		err = d.literal("true")
	case 'f':
		err = d.literal("false")
	case 'n':
		err = d.literal("null")
	default:
		var tok []byte
		tok, n.integral, err = d.number()
		n.kind, n.text = '0', string(tok)
	}
	n.end = d.pos
	return n, err
}

// schemaFromNode builds the schema a JSON schema describes, as upstream's asConnectSchema does;
// raw is the document the node was parsed from, for decoding the default value.
func (c *Converter) schemaFromNode(n *node, raw []byte) (*connect.Schema, error) {
	if n.kind == 'n' {
		return nil, nil
	}
	typeNode := n.get("type")
	if typeNode == nil || typeNode.kind != '"' {
		return nil, dataErr(`a schema must have a "type" string`)
	}
	t, ok := typeByJSONName(typeNode.text)
	if !ok {
		return nil, dataErr("unknown schema type %q", typeNode.text)
	}
	var b *connect.SchemaBuilder
	switch t {
	case connect.TypeArray:
		items := n.get("items")
		if items == nil || items.kind == 'n' {
			return nil, dataErr(`an array schema needs "items"`)
		}
		elem, err := c.schemaFromNode(items, raw)
		if err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		b = connect.ArrayBuilder(elem)
	case connect.TypeMap:
		keys, values := n.get("keys"), n.get("values")
		if keys == nil || keys.kind == 'n' {
			return nil, dataErr(`a map schema needs "keys"`)
		}
		if values == nil || values.kind == 'n' {
			return nil, dataErr(`a map schema needs "values"`)
		}
		ks, err := c.schemaFromNode(keys, raw)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		vs, err := c.schemaFromNode(values, raw)
		if err != nil {
			return nil, fmt.Errorf("values: %w", err)
		}
		b = connect.MapBuilder(ks, vs)
	case connect.TypeStruct:
		fields := n.get("fields")
		if fields == nil || fields.kind != '[' {
			return nil, dataErr(`a struct schema's "fields" must be an array`)
		}
		b = connect.StructBuilder()
		for i, f := range fields.elems {
			name := f.get("field")
			if name == nil || name.kind != '"' || name.text == "" {
				return nil, dataErr(`struct field %d has no "field" name`, i)
			}
			fs, err := c.schemaFromNode(f, raw)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", name.text, err)
			}
			b.Field(name.text, fs)
		}
	default:
		b = connect.NewSchemaBuilder(t)
	}
	if opt := n.get("optional"); opt != nil && opt.kind == 't' {
		b.Optional()
	}
	if name := n.get("name"); name != nil && name.kind == '"' {
		b.Name(name.text)
	}
	if v := n.get("version"); v != nil && v.kind == '0' && v.integral {
		version, ok := parseInt([]byte(v.text))
		if !ok || version < math.MinInt32 || version > math.MaxInt32 {
			return nil, dataErr("schema version %s is out of range", v.text)
		}
		b.Version(int(version))
	}
	if doc := n.get("doc"); doc != nil && doc.kind == '"' {
		b.Doc(doc.text)
	}
	if params := n.get("parameters"); params != nil && params.kind == '{' {
		for _, p := range params.members {
			if p.val.kind != '"' {
				return nil, dataErr("schema parameter %q must have a string value", p.name)
			}
			b.Param(p.name, p.val.text)
		}
	}
	s, err := b.Build()
	if err != nil {
		return nil, &connect.DataError{Msg: err.Error()}
	}
	if s.Name == connect.DecimalName {
		// Checked here rather than per value, so a message is refused whole or converted whole.
		if _, err := connect.DecimalScale(s); err != nil {
			return nil, &connect.DataError{Msg: err.Error()}
		}
	}
	dflt := n.get("default")
	if dflt == nil {
		return s, nil
	}
	// The default is read with the schema built so far, as upstream reads it with its builder.
	d := decoder{c: c, data: raw[:dflt.end], pos: dflt.start}
	v, err := d.value(s)
	if err != nil {
		return nil, fmt.Errorf("default value: %w", err)
	}
	if v == nil {
		return s, nil
	}
	s, err = b.Default(v).Build()
	if err != nil {
		return nil, &connect.DataError{Msg: err.Error()}
	}
	return s, nil
}
