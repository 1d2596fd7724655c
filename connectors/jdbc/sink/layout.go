package sink

import (
	"fmt"
	"sort"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// colSource says where a column's value comes from.
type colSource uint8

const (
	srcTopic colSource = iota
	srcPartition
	srcOffset
	srcKey      // the whole (primitive) record key
	srcKeyField // a field of a struct key
	srcValField // a field of the value (or of a Debezium envelope's after)
)

// column is one destination column of a layout.
type column struct {
	name   string // field name, as the record spells it
	schema *connect.Schema
	src    colSource
	idx    int // field index for srcKeyField / srcValField
	kind   valueKind
	key    bool
}

// layout maps records of one (topic, key schema, row schema) combination to columns, as
// upstream's FieldsMetadata: key columns come first in cols, then the non-key ones.
type layout struct {
	topic     string
	keySchema *connect.Schema
	rowSchema *connect.Schema // the value schema, or the after schema of a Debezium envelope; nil for tombstones
	cols      []column
	nkey      int
	// createOrder is the column order for CREATE TABLE, as upstream: Kafka coordinates, then value
	// fields in schema order, then key-only fields sorted by name.
	createOrder []int
}

func (l *layout) keyCols() []column { return l.cols[:l.nkey] }

// buildLayout derives the columns for a record shape under the configured pk.mode, pk.fields and
// field filters, with upstream's error messages where upstream has them.
func buildLayout(c *config, table, topic string, keySchema, rowSchema *connect.Schema) (*layout, error) {
	if rowSchema != nil && rowSchema.Type != connect.TypeStruct {
		return nil, fmt.Errorf("the record value must be a struct to be written to table %s, but its schema is %s", table, rowSchema)
	}
	l := &layout{topic: topic, keySchema: keySchema, rowSchema: rowSchema}
	keyNames := map[string]bool{}
	addKey := func(col column) {
		col.key = true
		keyNames[col.name] = true
		l.cols = append(l.cols, col)
	}
	switch c.pkMode {
	case pkKafka:
		names := defaultKafkaPKNames
		if len(c.pkFields) == 3 {
			names = c.pkFields
		}
		addKey(column{name: names[0], schema: connect.StringSchema, src: srcTopic})
		addKey(column{name: names[1], schema: connect.Int32Schema, src: srcPartition})
		addKey(column{name: names[2], schema: connect.Int64Schema, src: srcOffset})
	case pkRecordKey:
		if keySchema == nil {
			return nil, fmt.Errorf("pk.mode for table %s is record_key, but the record key has no schema; "+
				"enable schemas in the key converter (key.converter.schemas.enable=true) or use Avro", table)
		}
		switch {
		case keySchema.Type.IsPrimitive():
			if len(c.pkFields) != 1 {
				return nil, fmt.Errorf("the record key of topic %s is a primitive (%s), so exactly one primary key field name "+
					"is needed to name its column, but pk.fields has %d: %s", topic, keySchema, len(c.pkFields), strings.Join(c.pkFields, ","))
			}
			addKey(column{name: c.pkFields[0], schema: keySchema, src: srcKey})
		case keySchema.Type == connect.TypeStruct:
			names := c.pkFields
			if len(names) == 0 {
				for _, f := range keySchema.Fields {
					names = append(names, f.Name)
				}
			}
			for _, n := range names {
				f := keySchema.Field(n)
				if f == nil {
					return nil, fmt.Errorf("pk.mode for table %s is record_key with pk.fields %s, but the record key schema has no field %q",
						table, strings.Join(c.pkFields, ","), n)
				}
				addKey(column{name: n, schema: f.Schema, src: srcKeyField, idx: f.Index})
			}
		default:
			return nil, fmt.Errorf("the record key must be a primitive or a struct for pk.mode=record_key, but its schema is %s", keySchema)
		}
	case pkRecordValue:
		if rowSchema == nil {
			return nil, fmt.Errorf("pk.mode for table %s is record_value, but the record value has no schema", table)
		}
		names := c.pkFields
		if len(names) == 0 {
			for _, f := range rowSchema.Fields {
				names = append(names, f.Name)
			}
		}
		for _, n := range names {
			f := rowSchema.Field(n)
			if f == nil {
				return nil, fmt.Errorf("pk.mode for table %s is record_value with pk.fields %s, but the record value schema has no field %q",
					table, strings.Join(c.pkFields, ","), n)
			}
			addKey(column{name: n, schema: f.Schema, src: srcValField, idx: f.Index})
		}
	}
	l.nkey = len(l.cols)
	if rowSchema != nil {
		for _, f := range rowSchema.Fields {
			if keyNames[f.Name] || !c.keepField(topic, f.Name) {
				continue
			}
			l.cols = append(l.cols, column{name: f.Name, schema: f.Schema, src: srcValField, idx: f.Index})
		}
	}
	if len(l.cols) == 0 {
		return nil, fmt.Errorf("no fields found using key and value schemas for table %s", table)
	}
	for i := range l.cols {
		k, err := kindOf(l.cols[i].schema, c.debezium)
		if err != nil {
			return nil, fmt.Errorf("table %s, column %s: %w", table, l.cols[i].name, err)
		}
		l.cols[i].kind = k
	}
	l.createOrder = createOrder(l)
	return l, nil
}

func createOrder(l *layout) []int {
	pos := map[string]int{}
	for i, col := range l.cols {
		pos[col.name] = i
	}
	var order []int
	used := make([]bool, len(l.cols))
	take := func(i int) {
		if !used[i] {
			used[i] = true
			order = append(order, i)
		}
	}
	for i, col := range l.cols {
		if col.src == srcTopic || col.src == srcPartition || col.src == srcOffset {
			take(i)
		}
	}
	if l.rowSchema != nil {
		for _, f := range l.rowSchema.Fields {
			if i, ok := pos[f.Name]; ok {
				take(i)
			}
		}
	}
	var rest []int
	for i := range l.cols {
		if !used[i] {
			rest = append(rest, i)
		}
	}
	sort.Slice(rest, func(a, b int) bool { return l.cols[rest[a]].name < l.cols[rest[b]].name })
	return append(order, rest...)
}

// extract appends the raw values of the layout's columns for one record: all of them, or only
// the key columns when keyOnly is set. row is the struct the value columns read from.
func (l *layout) extract(dst []any, rec *connect.SinkRecord, row *connect.Struct, keyOnly bool) ([]any, error) {
	cols := l.cols
	if keyOnly {
		cols = l.keyCols()
	}
	var keyStruct *connect.Struct
	for i := range cols {
		col := &cols[i]
		var v any
		switch col.src {
		case srcTopic:
			v = rec.Topic
		case srcPartition:
			v = rec.Partition
		case srcOffset:
			v = rec.Offset
		case srcKey:
			v = rec.Key
		case srcKeyField:
			if keyStruct == nil {
				ks, ok := rec.Key.(*connect.Struct)
				if !ok {
					return dst, fmt.Errorf("the record key must be a struct matching its key schema, got %T", rec.Key)
				}
				keyStruct = ks
			}
			v = keyStruct.GetAt(col.idx)
		case srcValField:
			if row == nil {
				return dst, fmt.Errorf("column %s comes from the record value, which is null", col.name)
			}
			v = row.GetAt(col.idx)
		}
		if v == nil && col.key {
			return dst, fmt.Errorf("primary key column %s is null", col.name)
		}
		dst = append(dst, v)
	}
	return dst, nil
}
