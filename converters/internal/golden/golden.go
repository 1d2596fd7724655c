// Package golden renders Connect schemas and values the way the golden-file generator
// (converters/jsonconverter/testdata/golden/Gen.java) renders Kafka's, so tests can compare what
// kconnect decodes with what Kafka decoded.
package golden

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// Render prints a schema as Gen.render does.
func Render(s *connect.Schema) string {
	if s == nil {
		return "null"
	}
	var b strings.Builder
	b.WriteString(s.Type.String())
	if s.Optional {
		b.WriteByte('?')
	}
	if s.Name != "" {
		b.WriteString("<" + s.Name + ">")
	}
	if s.Version != 0 {
		fmt.Fprintf(&b, " v%d", s.Version)
	}
	if s.Doc != "" {
		b.WriteString(" doc=" + s.Doc)
	}
	if len(s.Parameters) > 0 {
		parts := make([]string, len(s.Parameters))
		for i, p := range s.Parameters {
			parts[i] = p.Key + "=" + p.Value
		}
		b.WriteString(" params={" + strings.Join(parts, ", ") + "}")
	}
	if s.Default != nil {
		b.WriteString(" default=" + RenderValue(s.Default))
	}
	switch s.Type {
	case connect.TypeArray:
		b.WriteString(" [" + Render(s.ValSchema) + "]")
	case connect.TypeMap:
		b.WriteString(" (" + Render(s.KeySchema) + " -> " + Render(s.ValSchema) + ")")
	case connect.TypeStruct:
		parts := make([]string, len(s.Fields))
		for i, f := range s.Fields {
			parts[i] = f.Name + ": " + Render(f.Schema)
		}
		b.WriteString(" {" + strings.Join(parts, ", ") + "}")
	}
	return b.String()
}

// RenderValue prints a value as Gen.render does.
func RenderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case int8:
		return "i8:" + strconv.Itoa(int(x))
	case int16:
		return "i16:" + strconv.Itoa(int(x))
	case int32:
		return "i32:" + strconv.Itoa(int(x))
	case int64:
		return "i64:" + strconv.FormatInt(x, 10)
	case float32:
		return "f32:" + string(javafmt.AppendFloat(nil, x))
	case float64:
		return "f64:" + string(javafmt.AppendDouble(nil, x))
	case bool:
		return "bool:" + strconv.FormatBool(x)
	case string:
		return `str:"` + x + `"`
	case connect.Decimal:
		return "dec:" + x.Unscaled.String() + "e" + strconv.Itoa(-int(x.Scale))
	case time.Time:
		return "time:" + strconv.FormatInt(x.UnixMilli(), 10)
	case []byte:
		return "bytes:" + hex.EncodeToString(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = RenderValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		return renderEntries(func(yield func(k, v any)) {
			for k, v := range x {
				yield(k, v)
			}
		})
	case map[any]any:
		return renderEntries(func(yield func(k, v any)) {
			for k, v := range x {
				yield(k, v)
			}
		})
	case *connect.Struct:
		parts := make([]string, len(x.Schema().Fields))
		for i, f := range x.Schema().Fields {
			parts[i] = f.Name + "=" + RenderValue(x.GetAt(i))
		}
		return "struct{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprintf("?%T", v)
}

func renderEntries(each func(yield func(k, v any))) string {
	var parts []string
	each(func(k, v any) { parts = append(parts, RenderValue(k)+"="+RenderValue(v)) })
	slices.Sort(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}
