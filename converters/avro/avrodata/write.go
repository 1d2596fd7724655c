package avrodata

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// Text returns the schema as JSON exactly as Avro's Java library prints it (Schema.toString):
// keys in Java's order, a named schema defined where it first appears and referenced by name after,
// names relative to the enclosing namespace. This is the text Confluent's converter registers, so
// registering kconnect's text finds the schema Java registered and vice versa. It fails when two
// different schemas share one name, as Java's does ("Can't redefine").
func (s *Schema) Text() (string, error) {
	w := textWriter{names: map[string]*Schema{}}
	if err := w.schema(s); err != nil {
		return "", err
	}
	return string(w.buf), nil
}

// String returns Text, or a description of why the schema cannot be printed.
func (s *Schema) String() string {
	t, err := s.Text()
	if err != nil {
		return "<invalid Avro schema: " + err.Error() + ">"
	}
	return t
}

type textWriter struct {
	buf   []byte
	names map[string]*Schema
	space string // the enclosing namespace, against which names are qualified
}

func (w *textWriter) str(s string) { w.buf = javafmt.AppendJSONString(w.buf, s) }

// key writes ,"k": (or "k": right after an opening brace).
func (w *textWriter) key(k string) {
	if w.buf[len(w.buf)-1] != '{' {
		w.buf = append(w.buf, ',')
	}
	w.str(k)
	w.buf = append(w.buf, ':')
}

func (w *textWriter) props(props []Prop) {
	for _, p := range props {
		w.key(p.Key)
		w.buf = append(w.buf, p.Value...)
	}
}

func (w *textWriter) strings(list []string) {
	w.buf = append(w.buf, '[')
	for i, s := range list {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(s)
	}
	w.buf = append(w.buf, ']')
}

func (w *textWriter) schema(s *Schema) error {
	if s.Type.named() {
		if def, ok := w.names[s.Name]; ok {
			if !equalSchemas(def, s, map[[2]*Schema]bool{}) {
				return fmt.Errorf("can't redefine: %s", s.Name)
			}
			w.str(qualified(s.Name, w.space))
			return nil
		}
		w.names[s.Name] = s
	}
	switch s.Type {
	case Record:
		return w.record(s)
	case Enum:
		w.buf = append(w.buf, `{"type":"enum"`...)
		w.name(s)
		if s.Doc != "" {
			w.key("doc")
			w.str(s.Doc)
		}
		w.key("symbols")
		w.strings(s.Symbols)
		if s.EnumDefault != "" {
			w.key("default")
			w.str(s.EnumDefault)
		}
	case Fixed:
		w.buf = append(w.buf, `{"type":"fixed"`...)
		w.name(s)
		if s.Doc != "" {
			w.key("doc")
			w.str(s.Doc)
		}
		w.key("size")
		w.buf = strconv.AppendInt(w.buf, int64(s.Size), 10)
	case Array:
		w.buf = append(w.buf, `{"type":"array","items":`...)
		if err := w.schema(s.Items); err != nil {
			return err
		}
	case Map:
		w.buf = append(w.buf, `{"type":"map","values":`...)
		if err := w.schema(s.Values); err != nil {
			return err
		}
	case Union:
		w.buf = append(w.buf, '[')
		for i, b := range s.Branches {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.schema(b); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
		return nil
	default:
		if len(s.Props) == 0 {
			w.str(string(s.Type))
			return nil
		}
		w.buf = append(w.buf, `{"type":`...)
		w.str(string(s.Type))
	}
	w.props(s.Props)
	if s.Type.named() && len(s.Aliases) > 0 {
		w.key("aliases")
		w.strings(s.Aliases)
	}
	w.buf = append(w.buf, '}')
	return nil
}

func (w *textWriter) record(s *Schema) error {
	w.buf = append(w.buf, `{"type":"record"`...)
	w.name(s)
	saved := w.space
	w.space = s.Namespace()
	defer func() { w.space = saved }()
	if s.Doc != "" {
		w.key("doc")
		w.str(s.Doc)
	}
	w.key("fields")
	w.buf = append(w.buf, '[')
	for i, f := range s.Fields {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, `{"name":`...)
		w.str(f.Name)
		w.buf = append(w.buf, `,"type":`...)
		if err := w.schema(f.Type); err != nil {
			return err
		}
		if f.Doc != "" {
			w.key("doc")
			w.str(f.Doc)
		}
		if f.Default != nil {
			w.key("default")
			w.buf = append(w.buf, f.Default...)
		}
		if f.Order != "" && f.Order != "ascending" {
			w.key("order")
			w.str(f.Order)
		}
		if len(f.Aliases) > 0 {
			w.key("aliases")
			w.strings(f.Aliases)
		}
		w.props(f.Props)
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, ']')
	w.props(s.Props)
	if len(s.Aliases) > 0 {
		w.key("aliases")
		w.strings(s.Aliases)
	}
	w.buf = append(w.buf, '}')
	return nil
}

// name writes the name, and the namespace when it differs from the enclosing one; a name without
// namespace inside a namespaced record gets "namespace":"" so that it does not inherit it.
func (w *textWriter) name(s *Schema) {
	w.key("name")
	w.str(s.ShortName())
	switch ns := s.Namespace(); {
	case ns != "" && ns != w.space:
		w.key("namespace")
		w.str(ns)
	case ns == "" && w.space != "":
		w.key("namespace")
		w.str("")
	}
}

// qualified is how Java refers to an already defined name: without its namespace when that is the
// enclosing one (or empty), in full otherwise.
func qualified(full, space string) string {
	i := len(full) - 1
	for i >= 0 && full[i] != '.' {
		i--
	}
	if i < 0 || full[:i] == space {
		return full[i+1:]
	}
	return full
}

// equalSchemas compares two schemas structurally, as Avro's Schema.equals does; seen stops the
// recursion through named types that contain themselves.
func equalSchemas(a, b *Schema, seen map[[2]*Schema]bool) bool {
	if a == b {
		return true
	}
	if a.Type != b.Type || a.Name != b.Name || a.Size != b.Size || a.EnumDefault != b.EnumDefault ||
		!equalProps(a.Props, b.Props) || !slices.Equal(a.Symbols, b.Symbols) ||
		len(a.Fields) != len(b.Fields) || len(a.Branches) != len(b.Branches) {
		return false
	}
	pair := [2]*Schema{a, b}
	if seen[pair] {
		return true
	}
	seen[pair] = true
	for i := range a.Fields {
		fa, fb := a.Fields[i], b.Fields[i]
		if fa.Name != fb.Name || string(fa.Default) != string(fb.Default) || fa.Order != fb.Order ||
			!equalProps(fa.Props, fb.Props) || !equalSchemas(fa.Type, fb.Type, seen) {
			return false
		}
	}
	for i := range a.Branches {
		if !equalSchemas(a.Branches[i], b.Branches[i], seen) {
			return false
		}
	}
	switch a.Type {
	case Array:
		return equalSchemas(a.Items, b.Items, seen)
	case Map:
		return equalSchemas(a.Values, b.Values, seen)
	}
	return true
}

func equalProps(a, b []Prop) bool {
	if len(a) != len(b) {
		return false
	}
	for _, p := range a {
		v, ok := findProp(b, p.Key)
		if !ok || string(v) != string(p.Value) {
			return false
		}
	}
	return true
}
