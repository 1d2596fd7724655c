package transforms

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// fieldSyntaxKey is field.syntax.version (KIP-821): V1 names a top-level field, V2 a dotted path
// into nested structs or maps, with backticks around names that contain dots.
var fieldSyntaxKey = connect.ConfigKey{Name: "field.syntax.version", Type: connect.ConfigString, Default: "V1",
	Validator: connect.OneOf("V1", "V2"), Importance: connect.High,
	Doc: "V1: field names address top-level fields only. V2: dotted paths address nested fields; wrap names containing dots in backticks, e.g. `foo.bar`.baz."}

// fieldPath is upstream's SingleFieldPath: the steps from the root to one field.
type fieldPath []string

func newFieldPath(path, syntax string) (fieldPath, error) {
	if !strings.EqualFold(syntax, "V2") {
		return fieldPath{path}, nil
	}
	return parseFieldPathV2(path)
}

// parseFieldPathV2 splits at dots; a step starting with a backtick runs to the next backtick that
// is followed by a dot (or ends the path) and is not escaped by a backslash.
func parseFieldPathV2(path string) (fieldPath, error) {
	var steps fieldPath
	incomplete := func(at int) error {
		return fmt.Errorf("Incomplete backtick pair in path: [%s], consider adding a backslash before backtick at position %d to escape it", path, at)
	}
	i := 0
	for i < len(path) {
		if path[i] != '`' {
			end := strings.IndexByte(path[i:], '.')
			if end < 0 {
				steps = append(steps, path[i:])
				break
			}
			steps = append(steps, path[i:i+end])
			i += end + 1
			continue
		}
		open := i
		i++
		start := i
		var field strings.Builder
		for {
			rel := strings.IndexByte(path[i:], '`')
			if rel < 0 {
				return nil, incomplete(open)
			}
			i += rel
			escaped := path[i-1] == '\\'
			if i >= len(path)-1 { // the closing backtick ends the path
				if escaped {
					return nil, incomplete(open)
				}
				field.WriteString(path[start:i])
				steps = append(steps, field.String())
				i++
				break
			}
			if path[i+1] != '.' { // a backtick inside the name
				i++
				continue
			}
			if escaped {
				field.WriteString(path[start : i-1])
				field.WriteByte('`')
				i++
				start = i
				continue
			}
			field.WriteString(path[start:i])
			steps = append(steps, field.String())
			i += 2
			break
		}
	}
	if strings.HasSuffix(path, ".") {
		steps = append(steps, "")
	}
	return steps, nil
}

// field returns the field the path names in schema, or nil.
func (p fieldPath) field(schema *connect.Schema) *connect.Field {
	cur := schema
	for _, step := range p[:len(p)-1] {
		f := cur.Field(step)
		if f == nil {
			return nil
		}
		cur = f.Schema
	}
	return cur.Field(p[len(p)-1])
}

// structValue returns the value at the path in st, or nil when a step is missing or null.
func (p fieldPath) structValue(st *connect.Struct, withDefault bool) (any, error) {
	cur := st
	for _, step := range p[:len(p)-1] {
		f := cur.Schema().Field(step)
		if f == nil {
			return nil, nil
		}
		next, err := requireStructOrNil(cur.GetAt(f.Index), "nested field access")
		if err != nil || next == nil {
			return nil, err
		}
		cur = next
	}
	f := cur.Schema().Field(p[len(p)-1])
	if f == nil {
		return nil, nil
	}
	return fieldValue(cur, f.Index, withDefault), nil
}

// mapValue returns the value at the path in m, or nil when a step is missing or null.
func (p fieldPath) mapValue(m map[string]any) (any, error) {
	cur := m
	for _, step := range p[:len(p)-1] {
		v := cur[step]
		if v == nil {
			return nil, nil
		}
		next, err := requireMap(v, "nested field access")
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur[p[len(p)-1]], nil
}
