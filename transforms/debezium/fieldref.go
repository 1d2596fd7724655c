package debezium

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/transforms"
)

// fieldRef is one entry of add.fields or add.headers: a field of the envelope (op, ts_ms), of its
// source or transaction block, or named struct.field, and the name it is added under.
type fieldRef struct {
	parent   string // "" for a top-level envelope field
	field    string
	newField string
}

func parseFieldRefs(prefix string, specs []string) ([]fieldRef, error) {
	var refs []fieldRef
	for _, spec := range specs {
		if spec == "" {
			continue
		}
		parts := strings.Split(spec, ":")
		path := strings.Split(parts[0], ".")
		ref := fieldRef{field: path[0]}
		if len(path) == 1 {
			ref.parent = parentOf(ref.field)
			ref.newField = prefix + ref.field
		} else {
			ref.parent, ref.field = path[0], path[1]
			ref.newField = prefix + ref.parent + "_" + ref.field
		}
		switch len(parts) {
		case 1:
		case 2:
			ref.newField = prefix + parts[1]
		default:
			return nil, fmt.Errorf("Unexpected field name: %s", spec)
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

// parentOf is where Debezium looks for a field named without its struct.
func parentOf(field string) string {
	switch field {
	case "id", "data_collection_order", "total_order":
		return fieldTransaction
	case fieldOp, "ts_ms", "ts_us", "ts_ns":
		return ""
	case "updateDescription":
		return "updateDescription"
	}
	return fieldSource
}

// schema returns the (optional) schema of the added field, or nil when the event has no such
// field; a field missing from its struct is looked up at the top level, where another transform
// may have put it.
func (r fieldRef) schema(event *connect.Schema) (*connect.Schema, error) {
	parent := event
	if r.parent != "" {
		pf := event.Field(r.parent)
		if pf == nil {
			return nil, &connect.DataError{Msg: fmt.Sprintf("%s is not a valid field name", r.parent)}
		}
		parent = pf.Schema
	}
	f := parent.Field(r.field)
	if f == nil {
		if f = event.Field(r.field); f == nil {
			return nil, nil
		}
	}
	b := transforms.CopySchemaBasics(f.Schema, nil).Optional()
	s, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", r.newField, err)
	}
	return s, nil
}

// value returns the field's value in the event, without applying defaults.
func (r fieldRef) value(event *connect.Struct) any {
	parent := event
	if r.parent != "" {
		f := event.Schema().Field(r.parent)
		if f == nil {
			return nil
		}
		p, ok := event.Raw(f.Index).(*connect.Struct)
		if !ok {
			return nil
		}
		parent = p
	}
	if f := parent.Schema().Field(r.field); f != nil {
		return parent.Raw(f.Index)
	}
	if f := event.Schema().Field(r.field); f != nil {
		return event.Raw(f.Index)
	}
	return nil
}
