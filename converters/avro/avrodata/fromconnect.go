package avrodata

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// Names and properties of Confluent's mapping.
const (
	namespaceConnect     = "io.confluent.connect.avro"
	defaultRecordName    = "ConnectDefault"
	mapEntryName         = "MapEntry"
	unionName            = namespaceConnect + ".Union"
	enumParam            = namespaceConnect + ".Enum"
	recordDocParam       = namespaceConnect + ".record.doc"
	fieldDocParamPrefix  = namespaceConnect + ".field.doc."
	fieldDefaultFlag     = namespaceConnect + ".field.default"
	enumDocParamPrefix   = namespaceConnect + ".enum.doc."
	enumDefaultPrefix    = namespaceConnect + ".enum.default."
	generalizedUnion     = "org.apache.kafka.connect.data.Union"
	propConnectName      = "connect.name"
	propConnectDoc       = "connect.doc"
	propConnectVersion   = "connect.version"
	propConnectDefault   = "connect.default"
	propConnectParams    = "connect.parameters"
	propConnectType      = "connect.type"
	propInternalType     = "connect.internal.type"
	propLogicalType      = "logicalType"
	propPrecision        = "precision"
	propScale            = "scale"
	paramFixedSize       = "connect.fixed.size"
	paramDecimalPrec     = "connect.decimal.precision"
	defaultDecimalPrec   = 64
	logicalDecimal       = "decimal"
	logicalDate          = "date"
	logicalTimeMillis    = "time-millis"
	logicalTimestampMill = "timestamp-millis"
)

// fromContext is the state of one Connect → Avro conversion.
type fromContext struct {
	// done maps required Connect schemas already converted to their Avro schema, so a schema used
	// twice becomes one Avro type referenced twice (Avro forbids defining a name twice).
	done []doneSchema
	// records holds the records converted so far by Connect name, for schemas that refer to them.
	records     map[string]*Schema
	defaultName int
}

type doneSchema struct {
	c *connect.Schema
	a *Schema
}

func (ctx *fromContext) lookup(c *connect.Schema) *Schema {
	for _, d := range ctx.done {
		if d.c == c || d.c.Equal(c) {
			return d.a
		}
	}
	return nil
}

// FromConnectSchema maps a Connect schema to the Avro schema Confluent's AvroData makes of it
// (values without schema get upstream's io.confluent.connect.avro.Anything record):
// optional schemas become unions with null (null first, or last when the schema has a default),
// int8 and int16 become int with a connect.type property, Decimal becomes bytes with the decimal
// logical type, maps with keys other than required strings become arrays of MapEntry records,
// unnamed structs become records named io.confluent.connect.avro.ConnectDefault(N), and Connect's
// name, version, doc, default and parameters ride along as connect.* properties.
func (d *Data) FromConnectSchema(s *connect.Schema) (*Schema, error) {
	if s == nil {
		return anything, nil
	}
	if a, ok := d.fromCache.Get(s); ok {
		return a, nil
	}
	ctx := &fromContext{records: map[string]*Schema{}}
	a, err := d.fromConnect(s, ctx, false)
	if err != nil {
		return nil, err
	}
	// Printing finds names defined twice with different content, which no registry accepts.
	if _, err := a.Text(); err != nil {
		return nil, err
	}
	d.fromCache.Put(s, a)
	return a, nil
}

func isUnionStruct(s *connect.Schema) bool {
	if s.Type != connect.TypeStruct {
		return false
	}
	_, generalized := s.Parameters.Get(generalizedUnion)
	return s.Name == unionName || generalized
}

func isEnumString(s *connect.Schema) bool {
	_, ok := s.Parameters.Get(enumParam)
	return s.Type == connect.TypeString && ok
}

func isFixedBytes(s *connect.Schema) bool {
	_, ok := s.Parameters.Get(paramFixedSize)
	return s.Type == connect.TypeBytes && s.Name != "" && ok
}

func (d *Data) fromConnect(s *connect.Schema, ctx *fromContext, ignoreOptional bool) (*Schema, error) {
	if !isUnionStruct(s) && !s.Optional {
		if a := ctx.lookup(s); a != nil {
			return a, nil
		}
	}
	var base *Schema
	connectType := ""
	switch s.Type {
	case connect.TypeInt8:
		base, connectType = primitive(Int), "int8"
	case connect.TypeInt16:
		base, connectType = primitive(Int), "int16"
	case connect.TypeInt32:
		base = primitive(Int)
	case connect.TypeInt64:
		base = primitive(Long)
	case connect.TypeFloat32:
		base = primitive(Float)
	case connect.TypeFloat64:
		base = primitive(Double)
	case connect.TypeBoolean:
		base = primitive(Boolean)
	case connect.TypeString:
		if d.cfg.EnhancedSchemaSupport && isEnumString(s) {
			var err error
			if base, err = d.enumFromConnect(s, ctx); err != nil {
				return nil, err
			}
		} else {
			base = primitive(String)
		}
	case connect.TypeBytes:
		var err error
		if base, err = d.bytesFromConnect(s, ctx); err != nil {
			return nil, err
		}
	case connect.TypeArray:
		items, err := d.fromConnectRef(s.ValSchema, ctx, false)
		if err != nil {
			return nil, err
		}
		base = &Schema{Type: Array, Items: items}
	case connect.TypeMap:
		var err error
		if base, err = d.mapFromConnect(s, ctx); err != nil {
			return nil, err
		}
	case connect.TypeStruct:
		var err error
		switch {
		case isUnionStruct(s):
			base = &Schema{Type: Union}
			if s.Optional {
				base.Branches = append(base.Branches, primitive(Null))
			}
			for _, f := range s.Fields {
				b, err := d.fromConnectRef(required(f.Schema), ctx, true)
				if err != nil {
					return nil, fmt.Errorf("union member %s: %w", f.Name, err)
				}
				base.Branches = append(base.Branches, b)
			}
		case s.Optional:
			inner, err := d.fromConnectRef(required(s), ctx, false)
			if err != nil {
				return nil, err
			}
			base = &Schema{Type: Union, Branches: []*Schema{primitive(Null), inner}}
		default:
			if base, err = d.recordFromConnect(s, ctx); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("unknown Connect schema type %s", s.Type)
	}

	final := base
	if base.Type != Union {
		if err := d.annotate(s, base, connectType); err != nil {
			return nil, err
		}
		if !ignoreOptional {
			final = optional(s, base)
		}
	}
	if !s.Optional {
		ctx.done = append(ctx.done, doneSchema{c: s, a: final})
	}
	return final, nil
}

// fromConnectRef converts a schema that may be a record converted earlier in this conversion,
// which it then refers to (upstream resolves array items, map values and union members this way).
func (d *Data) fromConnectRef(s *connect.Schema, ctx *fromContext, ignoreOptional bool) (*Schema, error) {
	if rec, ok := ctx.records[s.Name]; ok && s.Name != "" {
		if ignoreOptional {
			return rec, nil
		}
		return optional(s, rec), nil
	}
	return d.fromConnect(s, ctx, ignoreOptional)
}

// optional wraps an optional schema's Avro form in a union with null: null first, unless the
// schema has a default, which an Avro union default must match the first branch of.
func optional(s *connect.Schema, base *Schema) *Schema {
	if !s.Optional {
		return base
	}
	if s.Default != nil {
		return &Schema{Type: Union, Branches: []*Schema{base, primitive(Null)}}
	}
	return &Schema{Type: Union, Branches: []*Schema{primitive(Null), base}}
}

// required returns s as a required schema (upstream's nonOptional).
func required(s *connect.Schema) *connect.Schema {
	if !s.Optional {
		return s
	}
	r := *s
	r.Optional = false
	return &r
}

// recordName names a struct, map-entry record, enum or fixed: its Connect name split at the last
// dot, or ConnectDefault, ConnectDefault2, … in the io.confluent.connect.avro namespace.
func (d *Data) recordName(ctx *fromContext, name string) (string, error) {
	if name == "" {
		ctx.defaultName++
		n := defaultRecordName
		if ctx.defaultName > 1 {
			n += strconv.Itoa(ctx.defaultName)
		}
		return namespaceConnect + "." + n, nil
	}
	ns, short := splitName(name, d.cfg.ScrubInvalidNames)
	if err := checkName(short); err != nil {
		return "", err
	}
	return joinName(ns, short), nil
}

// enumFromConnect turns a string that came from an Avro enum back into that enum; its docs and
// default are parameters keyed by the Connect name's last part.
func (d *Data) enumFromConnect(s *connect.Schema, ctx *fromContext) (*Schema, error) {
	name, err := d.recordName(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	short := name[strings.LastIndexByte(name, '.')+1:]
	full, _ := s.Parameters.Get(enumParam)
	e := &Schema{Type: Enum, Name: full}
	if err := checkName(e.ShortName()); err != nil {
		return nil, err
	}
	e.Doc, _ = s.Parameters.Get(enumDocParamPrefix + short)
	e.EnumDefault, _ = s.Parameters.Get(enumDefaultPrefix + short)
	seen := map[string]bool{}
	for _, p := range s.Parameters {
		if sym, ok := strings.CutPrefix(p.Key, enumParam+"."); ok {
			if err := checkName(sym); err != nil {
				return nil, fmt.Errorf("enum %s: %w", full, err)
			}
			if seen[sym] {
				return nil, fmt.Errorf("enum %s: duplicate symbol %s", full, sym)
			}
			seen[sym] = true
			e.Symbols = append(e.Symbols, sym)
		}
	}
	return e, nil
}

func (d *Data) bytesFromConnect(s *connect.Schema, ctx *fromContext) (*Schema, error) {
	var b *Schema
	if isFixedBytes(s) {
		size, _ := s.Parameters.Get(paramFixedSize)
		n, err := strconv.Atoi(size)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("schema %s: invalid %s %q", s, paramFixedSize, size)
		}
		name, err := d.recordName(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		b = &Schema{Type: Fixed, Name: name, Size: n}
	} else {
		b = primitive(Bytes)
	}
	if strings.EqualFold(s.Name, connect.DecimalName) {
		scale, err := connect.DecimalScale(s)
		if err != nil {
			return nil, err
		}
		b.Props = append(b.Props, Prop{propScale, rawInt(int64(scale))})
		precision := defaultDecimalPrec
		if p, ok := s.Parameters.Get(paramDecimalPrec); ok {
			if precision, err = strconv.Atoi(p); err != nil {
				return nil, fmt.Errorf("schema %s: invalid %s %q", s, paramDecimalPrec, p)
			}
		}
		b.Props = append(b.Props, Prop{propPrecision, rawInt(int64(precision))})
	}
	return b, nil
}

func (d *Data) mapFromConnect(s *connect.Schema, ctx *fromContext) (*Schema, error) {
	if stringKeyed(s, d.cfg.AllowOptionalMapKeys) {
		values, err := d.fromConnectRef(s.ValSchema, ctx, false)
		if err != nil {
			return nil, err
		}
		return &Schema{Type: Map, Values: values}, nil
	}
	entry := &Schema{Type: Record, Name: namespaceConnect + "." + mapEntryName}
	if s.Name != "" {
		name, err := d.recordName(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		entry.Name = name
		entry.Props = []Prop{{propInternalType, rawString(mapEntryName)}}
	}
	key, err := d.recordField(ctx, "key", s.KeySchema, "")
	if err != nil {
		return nil, err
	}
	value, err := d.recordField(ctx, "value", s.ValSchema, "")
	if err != nil {
		return nil, err
	}
	entry.Fields = []*Field{key, value}
	return &Schema{Type: Array, Items: entry}, nil
}

// stringKeyed reports whether a Connect map becomes an Avro map (string keys) rather than an
// array of key/value records.
func stringKeyed(s *connect.Schema, allowOptionalKeys bool) bool {
	return s.KeySchema.Type == connect.TypeString && (!s.KeySchema.Optional || allowOptionalKeys)
}

func (d *Data) recordFromConnect(s *connect.Schema, ctx *fromContext) (*Schema, error) {
	name, err := d.recordName(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	rec := &Schema{Type: Record, Name: name}
	rec.Doc, _ = s.Parameters.Get(recordDocParam)
	if s.Name != "" {
		ctx.records[s.Name] = rec
	}
	for _, f := range s.Fields {
		fieldName := f.Name
		if d.cfg.ScrubInvalidNames {
			fieldName = scrub(fieldName)
		}
		if err := checkName(fieldName); err != nil {
			return nil, fmt.Errorf("struct %s: %w", s, err)
		}
		doc, _ := s.Parameters.Get(fieldDocParamPrefix + f.Name)
		field, err := d.recordField(ctx, fieldName, f.Schema, doc)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		rec.Fields = append(rec.Fields, field)
	}
	return rec, nil
}

// recordField makes a record field. Its default is the schema's default (null for an optional
// schema without one) when that is a valid Avro default for the field's type; an invalid one is
// dropped, as upstream drops it with a warning.
func (d *Data) recordField(ctx *fromContext, name string, s *connect.Schema, doc string) (*Field, error) {
	var def json.RawMessage
	if s.Default != nil {
		var err error
		if def, err = d.defaultJSON(s, s.Default, true); err != nil {
			return nil, err
		}
	} else if s.Optional {
		def = json.RawMessage("null")
	}
	a, err := d.fromConnect(s, ctx, false)
	if err != nil {
		return nil, err
	}
	f := &Field{Name: name, Type: a, Doc: doc}
	if def != nil && validDefault(a, def) {
		f.Default = def
	}
	return f, nil
}

// annotate adds Connect's metadata and the Avro logical type to a converted schema, in the order
// upstream adds them (the order shows in the registered text).
func (d *Data) annotate(s *connect.Schema, base *Schema, connectType string) error {
	if d.cfg.ConnectMetaData {
		if s.Doc != "" {
			base.Props = append(base.Props, Prop{propConnectDoc, rawString(s.Doc)})
		}
		if s.Version != 0 {
			base.Props = append(base.Props, Prop{propConnectVersion, rawInt(int64(s.Version))})
		}
		if params := paramsJSON(s.Parameters); params != nil {
			base.Props = append(base.Props, Prop{propConnectParams, params})
		}
		if _, fromAvroField := s.Parameters.Get(fieldDefaultFlag); s.Default != nil && !fromAvroField {
			def, err := d.defaultJSON(s, s.Default, false)
			if err != nil {
				return err
			}
			base.Props = append(base.Props, Prop{propConnectDefault, def})
		}
		if s.Name != "" {
			base.Props = append(base.Props, Prop{propConnectName, rawString(s.Name)})
		}
		if connectType != "" {
			base.Props = append(base.Props, Prop{propConnectType, rawString(connectType)})
		}
	}
	switch {
	case strings.EqualFold(s.Name, connect.DecimalName):
		if err := checkDecimal(s, base); err != nil {
			return err
		}
		if err := base.addProp(propLogicalType, rawString(logicalDecimal)); err != nil {
			return err
		}
	case strings.EqualFold(s.Name, connect.TimeName):
		if err := base.addProp(propLogicalType, rawString(logicalTimeMillis)); err != nil {
			return err
		}
	case strings.EqualFold(s.Name, connect.TimestampName):
		if err := base.addProp(propLogicalType, rawString(logicalTimestampMill)); err != nil {
			return err
		}
	case strings.EqualFold(s.Name, connect.DateName):
		if err := base.addProp(propLogicalType, rawString(logicalDate)); err != nil {
			return err
		}
	}
	for _, p := range s.Parameters {
		if strings.HasPrefix(p.Key, "avro") {
			if err := base.addProp(p.Key, rawString(p.Value)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDecimal fails where Avro's Java library refuses to mark a schema as a decimal. Upstream
// marks every Connect decimal with the decimal logical type, but checks it only when the scale lies
// within [0, precision]; a decimal outside that range is written in upstream's legacy form, which
// Avro readers see as plain bytes.
func checkDecimal(s *connect.Schema, base *Schema) error {
	precision, _, _ := base.intProp(propPrecision)
	scale, _, _ := base.intProp(propScale)
	if scale < 0 || scale > precision {
		return nil
	}
	if precision <= 0 {
		return fmt.Errorf("schema %s: invalid decimal precision %d (must be positive)", s, precision)
	}
	if base.Type == Fixed {
		if digits := int(math.Floor(math.Log10(2) * float64(8*base.Size-1))); precision > digits {
			return fmt.Errorf("schema %s: fixed(%d) cannot store %d digits", s, base.Size, precision)
		}
	}
	return nil
}

// paramsJSON renders Connect parameters as the connect.parameters object, leaving out the marker
// upstream adds to schemas read from Avro field defaults; nil when nothing is left.
func paramsJSON(params connect.Parameters) json.RawMessage {
	var buf []byte
	for _, p := range params {
		if p.Key == fieldDefaultFlag {
			continue
		}
		if buf == nil {
			buf = append(buf, '{')
		} else {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, p.Key)
		buf = append(buf, ':')
		buf = appendJSONString(buf, p.Value)
	}
	if buf == nil {
		return nil
	}
	return append(buf, '}')
}
