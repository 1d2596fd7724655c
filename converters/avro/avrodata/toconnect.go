package avrodata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// ToConnectSchema maps an Avro schema to the Connect schema Confluent's AvroData makes of it.
// Schemas Connect wrote come back as they were (connect.* properties); plain Avro schemas become
// the closest Connect schema: unions with null become optional schemas, other unions structs named
// io.confluent.connect.avro.Union with one optional field per branch, enums strings that remember
// their symbols in parameters, fixed bytes with a connect.fixed.size parameter, and the date,
// time-millis, timestamp-millis and decimal logical types Connect's Date, Time, Timestamp and
// Decimal (other logical types stay their underlying type). version, when positive, is the
// registry's version of the schema, used when the schema has no connect.version. Recursive Avro
// types are refused: Connect schemas cannot refer to themselves. Upstream's Anything record gives
// no schema at all: its values are schemaless.
func (d *Data) ToConnectSchema(a *Schema, version int) (*connect.Schema, error) {
	if isAnything(a) {
		return nil, nil // values without schema
	}
	key := toKey{a, version}
	if c, ok := d.toCache.Get(key); ok {
		return c, nil
	}
	ctx := &toContext{active: map[*Schema]bool{}}
	c, err := d.toConnect(a, ctx, toOpts{version: version})
	if err != nil {
		return nil, err
	}
	d.toCache.Put(key, c)
	return c, nil
}

type toContext struct {
	active map[*Schema]bool // records being converted, to refuse recursion
}

// toOpts carries what the enclosing record field adds to a schema's conversion.
type toOpts struct {
	forceOptional bool
	fieldDefault  json.RawMessage // the Avro field's default; it overrides connect.default
	version       int
}

func (d *Data) toConnect(a *Schema, ctx *toContext, o toOpts) (*connect.Schema, error) {
	connectType, _ := a.StringProp(propConnectType)
	logical := a.LogicalType()
	var b *connect.SchemaBuilder
	builtName, builtVersion := "", 0 // what the logical type builders preset
	switch a.Type {
	case Boolean:
		b = connect.NewSchemaBuilder(connect.TypeBoolean)
	case Bytes, Fixed:
		if strings.EqualFold(logical, logicalDecimal) {
			scale := 0
			if raw, ok := a.Prop(propScale); ok {
				// Upstream reads a scale that is not a JSON number as 0.
				if f, err := strconv.ParseFloat(string(raw), 64); err == nil {
					scale = int(f)
				}
			}
			b = connect.DecimalSchema(int32(scale))
			builtName, builtVersion = connect.DecimalName, 1
			if raw, ok := a.Prop(propPrecision); ok {
				f, err := strconv.ParseFloat(string(raw), 64)
				if err != nil {
					return nil, fmt.Errorf("decimal precision must be a JSON integer, not %s", raw)
				}
				if p := int(f); p != defaultDecimalPrec {
					b.Param(paramDecimalPrec, strconv.Itoa(p))
				}
			}
		} else {
			b = connect.NewSchemaBuilder(connect.TypeBytes)
		}
		if a.Type == Fixed {
			b.Param(paramFixedSize, strconv.Itoa(a.Size))
		}
	case Double:
		b = connect.NewSchemaBuilder(connect.TypeFloat64)
	case Float:
		b = connect.NewSchemaBuilder(connect.TypeFloat32)
	case Int:
		switch {
		case connectType == "" && logical == "":
			b = connect.NewSchemaBuilder(connect.TypeInt32)
		case strings.EqualFold(logical, logicalDate):
			b, builtName, builtVersion = connect.DateSchema(), connect.DateName, 1
		case strings.EqualFold(logical, logicalTimeMillis):
			b, builtName, builtVersion = connect.TimeSchema(), connect.TimeName, 1
		case logical != "":
			b = connect.NewSchemaBuilder(connect.TypeInt32)
		case connectType == "int8":
			b = connect.NewSchemaBuilder(connect.TypeInt8)
		case connectType == "int16":
			b = connect.NewSchemaBuilder(connect.TypeInt16)
		default:
			return nil, fmt.Errorf("unknown connect.type %q on an Avro int", connectType)
		}
	case Long:
		if strings.EqualFold(logical, logicalTimestampMill) {
			b, builtName, builtVersion = connect.TimestampSchema(), connect.TimestampName, 1
		} else {
			b = connect.NewSchemaBuilder(connect.TypeInt64)
		}
	case String:
		b = connect.NewSchemaBuilder(connect.TypeString)
	case Array:
		if isMapEntry(a.Items) {
			key, value := a.Items.Field("key"), a.Items.Field("value")
			if len(a.Items.Fields) != 2 || key == nil || value == nil {
				return nil, fmt.Errorf("found a map encoded as an array of key/value records, but %s is not one", a.Items.Name)
			}
			// Upstream converts the key and value schemas on their own, without the enclosing context.
			ks, err := d.ToConnectSchema(key.Type, 0)
			if err != nil {
				return nil, err
			}
			vs, err := d.ToConnectSchema(value.Type, 0)
			if err != nil {
				return nil, err
			}
			b = connect.MapBuilder(ks, vs)
		} else {
			items, err := d.toConnect(a.Items, ctx, toOpts{})
			if err != nil {
				return nil, err
			}
			b = connect.ArrayBuilder(items)
		}
	case Map:
		values, err := d.toConnect(a.Values, ctx, toOpts{})
		if err != nil {
			return nil, err
		}
		b = connect.MapBuilder(connect.StringSchema, values)
	case Record:
		var err error
		if b, err = d.recordToConnect(a, ctx); err != nil {
			return nil, err
		}
	case Enum:
		b = connect.NewSchemaBuilder(connect.TypeString)
		if d.cfg.ConnectMetaData {
			if a.Doc != "" {
				b.Param(enumDocParamPrefix+a.ShortName(), a.Doc)
			}
			if a.EnumDefault != "" {
				b.Param(enumDefaultPrefix+a.ShortName(), a.EnumDefault)
			}
		}
		b.Param(enumParam, a.Name)
		for _, sym := range a.Symbols {
			b.Param(enumParam+"."+sym, sym)
		}
	case Union:
		nonNull := -1
		if len(a.Branches) == 2 {
			if i := a.nullBranch(); i >= 0 && len(a.Branches[i].Props) == 0 {
				nonNull = 1 - i
			}
		}
		switch {
		case len(a.Branches) == 1 && d.cfg.FlattenSingletonUnions:
			return d.toConnect(a.Branches[0], ctx, toOpts{})
		case nonNull >= 0:
			return d.toConnect(a.Branches[nonNull], ctx, toOpts{forceOptional: true})
		}
		b = connect.StructBuilder().Name(unionName)
		builtName = unionName
		seen := map[string]bool{}
		for i, m := range a.Branches {
			if m.Type == Null {
				b.Optional()
				continue
			}
			name := d.memberName(m)
			if seen[name] {
				return nil, fmt.Errorf("union branches %d and another both map to the Connect union field %q", i, name)
			}
			seen[name] = true
			fs, err := d.toConnect(m, ctx, toOpts{forceOptional: true})
			if err != nil {
				return nil, err
			}
			b.Field(name, fs)
		}
	case Null:
		return nil, fmt.Errorf("a standalone Avro null schema has no Connect equivalent")
	default:
		return nil, fmt.Errorf("unknown Avro type %q", a.Type)
	}
	return d.finishToConnect(a, b, builtName, builtVersion, o)
}

func (d *Data) recordToConnect(a *Schema, ctx *toContext) (*connect.SchemaBuilder, error) {
	if ctx.active[a] {
		return nil, fmt.Errorf("Avro record %s refers to itself, which Connect schemas cannot express", a.Name)
	}
	ctx.active[a] = true
	defer delete(ctx.active, a)
	b := connect.StructBuilder()
	if d.cfg.ConnectMetaData && a.Doc != "" {
		b.Param(recordDocParam, a.Doc)
	}
	for _, f := range a.Fields {
		if d.cfg.ConnectMetaData && f.Doc != "" {
			b.Param(fieldDocParamPrefix+f.Name, f.Doc)
		}
		fs, err := d.toConnect(f.Type, ctx, toOpts{fieldDefault: f.Default})
		if err != nil {
			return nil, fmt.Errorf("field %s of %s: %w", f.Name, a.Name, err)
		}
		b.Field(f.Name, fs)
	}
	return b, nil
}

// finishToConnect adds what every Avro schema may carry: Connect's doc, version and parameters,
// avro* properties as parameters, the default, the name, and optionality.
func (d *Data) finishToConnect(a *Schema, b *connect.SchemaBuilder, builtName string, builtVersion int, o toOpts) (*connect.Schema, error) {
	if doc, ok := a.StringProp(propConnectDoc); ok && d.cfg.ConnectMetaData {
		b.Doc(doc)
	}
	version := -1
	if raw, ok := a.Prop(propConnectVersion); ok {
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, fmt.Errorf("invalid connect.version %s", raw)
		}
		version = int(f)
	} else if o.version > 0 {
		version = o.version
	}
	if version >= 0 {
		if builtVersion != 0 && version != builtVersion {
			return nil, fmt.Errorf("mismatched versions: the %s schema has version %d, the Avro schema says %d", builtName, builtVersion, version)
		}
		b.Version(version)
	}
	if raw, ok := a.Prop(propConnectParams); ok && d.cfg.ConnectMetaData {
		ms, err := members(raw)
		if err != nil {
			return nil, fmt.Errorf("connect.parameters must be a JSON object: %w", err)
		}
		for _, m := range ms {
			var v string
			if err := json.Unmarshal(m.value, &v); err != nil {
				return nil, fmt.Errorf("connect.parameters values must be strings, not %s", m.value)
			}
			b.Param(m.key, v)
		}
	}
	for _, p := range a.Props {
		if strings.HasPrefix(p.Key, "avro") {
			v := string(p.Value)
			if s, ok := stringProp(a.Props, p.Key); ok {
				v = s
			}
			b.Param(p.Key, v)
		}
	}
	connectDefault, hasConnectDefault := a.Prop(propConnectDefault)
	def, fromField := o.fieldDefault, true
	if def == nil {
		def, fromField = connectDefault, false
	} else if d.cfg.ConnectMetaData && !hasConnectDefault {
		b.Param(fieldDefaultFlag, "true")
	}

	name, _ := a.StringProp(propConnectName)
	if name == "" {
		switch a.Type {
		case Record, Enum:
			name = a.Name
		case Fixed:
			if builtName != connect.DecimalName {
				name = a.Name
			}
		}
	}
	if name != "" && !strings.HasPrefix(name, namespaceConnect+"."+defaultRecordName) {
		if builtName != "" && name != builtName {
			return nil, fmt.Errorf("mismatched names: the %s schema cannot be named %s", builtName, name)
		}
		b.Name(name)
	}
	if o.forceOptional {
		b.Optional()
	}
	s, err := b.Build()
	if err != nil {
		return nil, err
	}
	if def == nil {
		return s, nil
	}
	// An invalid default is dropped, as upstream drops it with a warning.
	v, err := d.defaultFromAvro(s, a, def, fromField)
	if err != nil || v == nil || connect.Validate(s, v) != nil {
		return s, nil
	}
	// A struct default keeps the schema without default as its own, so that comparing two such
	// schemas does not recurse through their defaults forever.
	withDefault := *s
	withDefault.Default = v
	return &withDefault, nil
}

// memberName is the Connect field name of a union branch: a named type's name (its full name
// with enhanced.avro.schema.support), else the type's name.
func (d *Data) memberName(m *Schema) string {
	if m.Type.named() {
		if d.cfg.EnhancedSchemaSupport {
			return m.Name
		}
		return m.ShortName()
	}
	return string(m.Type)
}

func isMapEntry(a *Schema) bool {
	if a.Type != Record {
		return false
	}
	if a.Name == namespaceConnect+"."+mapEntryName {
		return true
	}
	t, _ := a.StringProp(propInternalType)
	return t == mapEntryName
}

// defaultFromAvro converts a JSON default to a Connect value of s. A field default follows
// Avro's own reading of defaults (a union's default belongs to its first branch, a record's
// missing fields take their defaults); a connect.default follows the schema.
func (d *Data) defaultFromAvro(s *connect.Schema, a *Schema, raw json.RawMessage, fromField bool) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if !fromField && a.Type == Union {
		// connect.default on a union: only a first branch of null gives a (null) default.
		return nil, nil
	}
	return d.jsonToConnect(s, a, v, fromField)
}

func (d *Data) jsonToConnect(s *connect.Schema, a *Schema, v any, fromField bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a != nil && a.Type == Union && len(a.Branches) > 0 {
		a = a.Branches[0]
	}
	var out any
	switch s.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("not a number: %v", v)
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, err
		}
		i := int64(f)
		if x, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			i = x
		}
		switch s.Type {
		case connect.TypeInt8:
			out = int8(i)
		case connect.TypeInt16:
			out = int16(i)
		case connect.TypeInt32:
			out = int32(i)
		default:
			out = i
		}
	case connect.TypeFloat32, connect.TypeFloat64:
		var f float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(string(x), 64); err != nil {
				return nil, err
			}
		case string:
			var ok bool
			if f, ok = javafmt.ParseNonFinite(x); !ok {
				return nil, fmt.Errorf("not a number: %q", x)
			}
		default:
			return nil, fmt.Errorf("not a number: %v", v)
		}
		if s.Type == connect.TypeFloat32 {
			out = float32(f)
		} else {
			out = f
		}
	case connect.TypeBoolean:
		bv, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("not a boolean: %v", v)
		}
		out = bv
	case connect.TypeString:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("not a string: %v", v)
		}
		out = str
	case connect.TypeBytes:
		str, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("not a string: %v", v)
		}
		b := make([]byte, 0, len(str))
		for _, r := range str {
			if r > 0xFF {
				r = '?' // what Java's ISO-8859-1 encoder makes of characters it lacks
			}
			b = append(b, byte(r))
		}
		out = b
	case connect.TypeArray:
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("not an array: %v", v)
		}
		var items *Schema
		if a != nil && a.Type == Array {
			items = a.Items
		}
		list := make([]any, len(arr))
		for i, e := range arr {
			var err error
			if list[i], err = d.jsonToConnect(s.ValSchema, items, e, fromField); err != nil {
				return nil, err
			}
		}
		out = list
	case connect.TypeMap:
		obj, ok := v.(map[string]any)
		if !ok || s.KeySchema.Type != connect.TypeString {
			return nil, fmt.Errorf("not a map with string keys: %v", v)
		}
		var values *Schema
		if a != nil && a.Type == Map {
			values = a.Values
		}
		m := make(map[string]any, len(obj))
		for k, e := range obj {
			var err error
			if m[k], err = d.jsonToConnect(s.ValSchema, values, e, fromField); err != nil {
				return nil, err
			}
		}
		out = m
	case connect.TypeStruct:
		if isUnionStruct(s) {
			return nil, fmt.Errorf("union defaults are not kept")
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		st := connect.NewStruct(s)
		for i, f := range s.Fields {
			var fa *Schema
			if a != nil && a.Type == Record && i < len(a.Fields) {
				fa = a.Fields[i].Type
			}
			name := f.Name
			if d.cfg.ScrubInvalidNames && fromField {
				name = scrub(name)
			}
			fv, has := obj[name]
			if !has && fromField {
				st.SetAt(i, f.Schema.Default)
				continue
			}
			val, err := d.jsonToConnect(f.Schema, fa, fv, fromField)
			if err != nil {
				return nil, err
			}
			if err := st.PutAt(i, val); err != nil {
				return nil, err
			}
		}
		out = st
	default:
		return nil, fmt.Errorf("unsupported default for %s", s)
	}
	return logicalFromAvro(s, out)
}

// logicalFromAvro converts an Avro representation to a logical type's Go value.
func logicalFromAvro(s *connect.Schema, v any) (any, error) {
	switch s.Name {
	case connect.DecimalName:
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("decimal must be bytes, not %T", v)
		}
		scale, err := connect.DecimalScale(s)
		if err != nil {
			return nil, err
		}
		return connect.DecimalFromBytes(b, scale), nil
	case connect.DateName:
		n, ok := v.(int32)
		if !ok {
			return nil, fmt.Errorf("date must be int32, not %T", v)
		}
		return connect.DaysToDate(n), nil
	case connect.TimeName:
		n, ok := v.(int32)
		if !ok {
			return nil, fmt.Errorf("time must be int32, not %T", v)
		}
		return connect.MillisToTime(n), nil
	case connect.TimestampName:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("timestamp must be int64, not %T", v)
		}
		return timestamp(n), nil
	}
	return v, nil
}
