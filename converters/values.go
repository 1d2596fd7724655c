package converters

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// This file holds the header text format of upstream's org.apache.kafka.connect.data.Values:
// appendValueText is Values.convertToString and parseValueText is Values.parseString.

const msPerDay = 24 * 60 * 60 * 1000

// Layouts of upstream's ISO 8601 formats, always in UTC here (upstream uses the JVM's zone).
const (
	dateLayout      = "2006-01-02"
	timeLayout      = "15:04:05.000Z"
	timestampLayout = "2006-01-02T15:04:05.000Z"
)

// appendValueText writes v as text: strings and bytes (base64) bare at the top level and quoted
// inside arrays and maps, arrays as [a,b], maps and structs as {"k":v}, numbers as Java prints them,
// dates in ISO 8601. s, when known, picks the format of a time value; without it the value decides
// as upstream does (before the first day a time, at midnight a date, otherwise a timestamp). Map
// entries are sorted by key so equal maps give equal text.
func appendValueText(b []byte, s *connect.Schema, v any, embedded bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		if !embedded {
			return append(b, x...), nil
		}
		b = append(b, '"')
		for i := 0; i < len(x); i++ {
			if x[i] == '"' || x[i] == '\\' {
				b = append(b, '\\')
			}
			b = append(b, x[i])
		}
		return append(b, '"'), nil
	case []byte:
		if !embedded {
			return base64.StdEncoding.AppendEncode(b, x), nil
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, x)
		return append(b, '"'), nil
	case []any:
		var elem *connect.Schema
		if s != nil && s.Type == connect.TypeArray {
			elem = s.ValSchema
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValueText(b, elem, e, true); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return appendMapText(b, s, keys, func(k any) any { return x[k.(string)] })
	case map[any]any:
		keys := make([]any, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		return appendMapText(b, s, keys, func(k any) any { return x[k] })
	case *connect.Struct:
		b = append(b, '{')
		for i, f := range x.Schema().Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = appendValueText(b, nil, f.Name, true)
			b = append(b, ':')
			var err error
			if b, err = appendValueText(b, f.Schema, x.GetAt(i), true); err != nil {
				return nil, fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
		return append(b, '}'), nil
	case time.Time:
		return appendTimeText(b, s, x), nil
	}
	return appendJavaScalar(b, v)
}

func appendMapText(b []byte, s *connect.Schema, keys []any, get func(any) any) ([]byte, error) {
	var ks, vs *connect.Schema
	if s != nil && s.Type == connect.TypeMap {
		ks, vs = s.KeySchema, s.ValSchema
	}
	texts := make([]string, len(keys))
	for i, k := range keys {
		t, err := appendValueText(nil, ks, k, true)
		if err != nil {
			return nil, err
		}
		texts[i] = string(t)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(texts[i], texts[j]) })
	b = append(b, '{')
	for n, i := range order {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, texts[i]...)
		b = append(b, ':')
		var err error
		if b, err = appendValueText(b, vs, get(keys[i]), true); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

func appendTimeText(b []byte, s *connect.Schema, t time.Time) []byte {
	t = t.UTC()
	layout := ""
	if s != nil {
		switch s.Name {
		case connect.DateName:
			layout = dateLayout
		case connect.TimeName:
			layout = timeLayout
		case connect.TimestampName:
			layout = timestampLayout
		}
	}
	if layout == "" {
		switch ms := t.UnixMilli(); {
		case ms < msPerDay:
			layout = timeLayout
		case ms%msPerDay == 0:
			layout = dateLayout
		default:
			layout = timestampLayout
		}
	}
	return t.AppendFormat(b, layout)
}

// appendJavaScalar writes a number or boolean as Java's toString does.
func appendJavaScalar(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case int8:
		return fmt.Appendf(b, "%d", x), nil
	case int16:
		return fmt.Appendf(b, "%d", x), nil
	case int32:
		return fmt.Appendf(b, "%d", x), nil
	case int64:
		return fmt.Appendf(b, "%d", x), nil
	case float32:
		return javafmt.AppendFloat(b, x), nil
	case float64:
		return javafmt.AppendDouble(b, x), nil
	case bool:
		return fmt.Appendf(b, "%t", x), nil
	case connect.Decimal:
		return javafmt.AppendBigDecimal(b, x.Unscaled, x.Scale), nil
	}
	return nil, &connect.DataError{Msg: fmt.Sprintf("cannot write a value of Go type %T as text", v)}
}

// textValue is a parsed value with its inferred schema. A nil schema with a non-nil value is an
// array or map whose elements share no schema (upstream's array or map "of null").
type textValue struct {
	schema *connect.Schema
	value  any
}

// parseValueText infers a schema and value from header text as upstream's Values.parseString does:
// null and booleans, integers in the narrowest of int8…int64, other numbers as float32 when finite
// there (upstream's choice, even where precision is lost), then float64, then Decimal; ISO 8601
// dates, times and timestamps; JSON-like arrays and maps whose elements are such values (quoted
// strings inside); anything else is the string itself. Where upstream returns a prefix ("12:30"
// reads as the int8 12, "[1,2] x" as the array), this returns the whole text as a string.
func parseValueText(text string) (*connect.Schema, any) {
	if text == "" {
		return connect.StringSchema, ""
	}
	t := strings.TrimFunc(text, isJavaSpace)
	switch t {
	case "null":
		return nil, nil
	case "true":
		return connect.BooleanSchema, true
	case "false":
		return connect.BooleanSchema, false
	}
	if t != "" {
		switch c := t[0]; {
		case c == '[' || c == '{':
			p := textParser{s: t}
			if tv, ok := p.composite(); ok && p.atEnd() {
				return tv.schema, tv.value
			}
		case c >= '0' && c <= '9':
			if tv, ok := parseTemporal(t); ok {
				return tv.schema, tv.value
			}
			if tv, ok := parseNumber(t); ok {
				return tv.schema, tv.value
			}
		case c == '+' || c == '-':
			if tv, ok := parseNumber(t); ok {
				return tv.schema, tv.value
			}
		}
	}
	return connect.StringSchema, text
}

// isJavaSpace is what String.trim removes.
func isJavaSpace(r rune) bool { return r <= ' ' }

func parseTemporal(s string) (textValue, bool) {
	var layout string
	var schema *connect.Schema
	switch len(s) {
	case len(timestampLayout):
		layout, schema = timestampLayout, timestampSchema
	case len(timeLayout):
		layout, schema = timeLayout, timeSchema
	case len(dateLayout):
		layout, schema = dateLayout, dateSchema
	default:
		return textValue{}, false
	}
	t, err := time.ParseInLocation(layout, s, time.UTC)
	if err != nil {
		return textValue{}, false
	}
	if schema == timeSchema {
		t = time.UnixMilli(int64(t.Hour()*3600000 + t.Minute()*60000 + t.Second()*1000 + t.Nanosecond()/1e6)).UTC()
	}
	return textValue{schema, t}, true
}

var (
	dateSchema      = connect.DateSchema().MustBuild()
	timeSchema      = connect.TimeSchema().MustBuild()
	timestampSchema = connect.TimestampSchema().MustBuild()
)

// parseNumber reads a token as Java's BigDecimal(String) would and picks the schema as upstream.
func parseNumber(s string) (textValue, bool) {
	d, ok := parseBigDecimal(s)
	if !ok {
		return textValue{}, false
	}
	if n, ok := exactInt64(d); ok {
		switch {
		case n >= math.MinInt8 && n <= math.MaxInt8:
			return textValue{connect.Int8Schema, int8(n)}, true
		case n >= math.MinInt16 && n <= math.MaxInt16:
			return textValue{connect.Int16Schema, int16(n)}, true
		case n >= math.MinInt32 && n <= math.MaxInt32:
			return textValue{connect.Int32Schema, int32(n)}, true
		}
		return textValue{connect.Int64Schema, n}, true
	}
	r := d.Rat()
	f32, _ := r.Float32()
	f64, _ := r.Float64()
	switch {
	case d.Scale != 0 && !math.IsInf(float64(f32), 0):
		return textValue{connect.Float32Schema, f32}, true
	case d.Scale != 0 && !math.IsInf(f64, 0):
		return textValue{connect.Float64Schema, f64}, true
	}
	return textValue{connect.DecimalSchema(d.Scale).MustBuild(), d}, true
}

// parseBigDecimal accepts Java's BigDecimal syntax: optional sign, digits with an optional point
// (at least one digit overall), optional exponent.
func parseBigDecimal(s string) (connect.Decimal, bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var digits []byte
	frac, seenPoint := 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
			if seenPoint {
				frac++
			}
			continue
		case c == '.' && !seenPoint:
			seenPoint = true
			continue
		}
		break
	}
	if len(digits) == 0 || len(digits) > 1000 {
		return connect.Decimal{}, false
	}
	exp := int64(0)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start := i
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp = exp*10 + int64(s[i]-'0')
			if exp > math.MaxInt32 {
				return connect.Decimal{}, false
			}
		}
		if i == start {
			return connect.Decimal{}, false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return connect.Decimal{}, false
	}
	scale := int64(frac) - exp
	if scale < math.MinInt32 || scale > math.MaxInt32 {
		return connect.Decimal{}, false
	}
	u, _ := new(big.Int).SetString(string(digits), 10)
	if neg {
		u.Neg(u)
	}
	return connect.Decimal{Unscaled: u, Scale: int32(scale)}, true
}

// exactInt64 returns d's value when it is an integer within int64.
func exactInt64(d connect.Decimal) (int64, bool) {
	u := d.Unscaled
	if u.Sign() == 0 {
		return 0, true
	}
	ten := big.NewInt(10)
	if d.Scale < 0 {
		if int64(len(u.String()))-int64(d.Scale) > 20 {
			return 0, false
		}
		v := new(big.Int).Mul(u, new(big.Int).Exp(ten, big.NewInt(int64(-d.Scale)), nil))
		return v.Int64(), v.IsInt64()
	}
	if int64(d.Scale) > int64(len(u.String())) {
		return 0, false
	}
	q, r := new(big.Int).QuoRem(u, new(big.Int).Exp(ten, big.NewInt(int64(d.Scale)), nil), new(big.Int))
	return q.Int64(), r.Sign() == 0 && q.IsInt64()
}

// textParser reads the arrays and maps of the header text format.
type textParser struct {
	s     string
	pos   int
	depth int
}

const maxTextDepth = 100

func (p *textParser) skipSpace() {
	for p.pos < len(p.s) && p.s[p.pos] <= ' ' {
		p.pos++
	}
}

func (p *textParser) atEnd() bool {
	p.skipSpace()
	return p.pos == len(p.s)
}

func (p *textParser) consume(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// composite parses an array or map at the current position.
func (p *textParser) composite() (textValue, bool) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxTextDepth {
		return textValue{}, false
	}
	if p.consume('[') {
		return p.array()
	}
	if p.consume('{') {
		return p.mapValue()
	}
	return textValue{}, false
}

// element parses one value inside an array or map; ok is false when it is not a value upstream
// could parse there. A null element has a nil schema and value and isNull set.
func (p *textParser) element() (tv textValue, isNull, ok bool) {
	p.skipSpace()
	if p.pos >= len(p.s) {
		return textValue{}, false, false
	}
	switch p.s[p.pos] {
	case '"':
		tv, ok = p.quoted()
		return tv, false, ok
	case '[', '{':
		tv, ok = p.composite()
		return tv, false, ok
	}
	start := p.pos
	if c := p.s[p.pos]; c >= '0' && c <= '9' {
		// Unquoted dates and times, whose colons would otherwise end the token.
		for _, n := range []int{len(timestampLayout), len(timeLayout), len(dateLayout)} {
			if start+n <= len(p.s) && p.endsToken(start+n) {
				if tv, ok := parseTemporal(p.s[start : start+n]); ok {
					p.pos = start + n
					return tv, false, true
				}
			}
		}
	}
	for p.pos < len(p.s) && !strings.ContainsRune(",:[]{}\"", rune(p.s[p.pos])) {
		p.pos++
	}
	token := strings.TrimFunc(p.s[start:p.pos], isJavaSpace)
	switch token {
	case "null":
		return textValue{}, true, true
	case "true":
		return textValue{connect.BooleanSchema, true}, false, true
	case "false":
		return textValue{connect.BooleanSchema, false}, false, true
	case "":
		return textValue{}, false, false
	}
	if c := token[0]; c >= '0' && c <= '9' || c == '+' || c == '-' {
		tv, ok = parseNumber(token)
		return tv, false, ok
	}
	return textValue{}, false, false
}

func (p *textParser) endsToken(i int) bool {
	if i == len(p.s) {
		return true
	}
	return strings.ContainsRune(",:]}", rune(p.s[i])) || p.s[i] <= ' '
}

// quoted reads a quoted string, undoing the \" and \\ escapes appendValueText writes. Its content
// may be a date, time or timestamp, as upstream reads it.
func (p *textParser) quoted() (textValue, bool) {
	p.pos++
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			content := b.String()
			if tv, ok := parseTemporal(content); ok {
				return tv, true
			}
			return textValue{connect.StringSchema, content}, true
		case c == '\\' && p.pos+1 < len(p.s) && (p.s[p.pos+1] == '"' || p.s[p.pos+1] == '\\'):
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return textValue{}, false
}

func (p *textParser) array() (textValue, bool) {
	var values []any
	var schemas []*connect.Schema
	hasNull := false
	if !p.consume(']') {
		for {
			tv, isNull, ok := p.element()
			if !ok {
				return textValue{}, false
			}
			hasNull = hasNull || isNull
			values = append(values, tv.value)
			schemas = append(schemas, tv.schema)
			if p.consume(']') {
				break
			}
			if !p.consume(',') {
				return textValue{}, false
			}
		}
	}
	if values == nil {
		values = []any{}
	}
	common, found := commonSchema(schemas)
	if !found {
		return textValue{nil, values}, true
	}
	if hasNull {
		// Upstream cannot fit a null into the elements' common schema and reads the text as a string.
		return textValue{}, false
	}
	for i := range values {
		values[i] = widen(values[i], common)
	}
	return textValue{connect.ArrayBuilder(common).MustBuild(), values}, true
}

func (p *textParser) mapValue() (textValue, bool) {
	var keys, values []any
	var keySchemas, valSchemas []*connect.Schema
	valNull := false
	if !p.consume('}') {
		for {
			k, isNull, ok := p.element()
			if !ok || isNull || !p.consume(':') {
				return textValue{}, false
			}
			v, vNull, ok := p.element()
			if !ok {
				return textValue{}, false
			}
			valNull = valNull || vNull
			keys, values = append(keys, k.value), append(values, v.value)
			keySchemas, valSchemas = append(keySchemas, k.schema), append(valSchemas, v.schema)
			if p.consume('}') {
				break
			}
			if !p.consume(',') {
				return textValue{}, false
			}
		}
	}
	ks, keysFound := commonSchema(keySchemas)
	vs, valsFound := commonSchema(valSchemas)
	if keysFound {
		for i := range keys {
			keys[i] = widen(keys[i], ks)
		}
	}
	if valsFound {
		if valNull {
			return textValue{}, false
		}
		for i := range values {
			values[i] = widen(values[i], vs)
		}
	}
	m, ok := buildMap(keys, values)
	if !ok {
		return textValue{}, false
	}
	if keysFound && valsFound {
		return textValue{connect.MapBuilder(ks, vs).MustBuild(), m}, true
	}
	return textValue{nil, m}, true
}

// buildMap makes a map[string]any when every key is a string, else a map[any]any; keys that Go
// cannot hash (arrays, maps) make the text unparseable as a map.
func buildMap(keys, values []any) (any, bool) {
	allStrings := true
	for _, k := range keys {
		switch k.(type) {
		case string:
		case []any, map[string]any, map[any]any:
			return nil, false
		default:
			allStrings = false
		}
	}
	if allStrings {
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			m[k.(string)] = values[i]
		}
		return m, true
	}
	m := make(map[any]any, len(keys))
	for i, k := range keys {
		m[k] = values[i]
	}
	return m, true
}

// numericRank orders the types a number may widen to, as upstream's schema merging does.
func numericRank(s *connect.Schema) int {
	if s.Name != "" {
		return 0
	}
	switch s.Type {
	case connect.TypeInt8:
		return 1
	case connect.TypeInt16:
		return 2
	case connect.TypeInt32:
		return 3
	case connect.TypeInt64:
		return 4
	case connect.TypeFloat32:
		return 5
	case connect.TypeFloat64:
		return 6
	}
	return 0
}

// commonSchema merges the schemas of non-null elements: numbers widen to the widest type seen,
// anything else must be the same schema. found is false when there is no non-null element or no
// common schema.
func commonSchema(schemas []*connect.Schema) (common *connect.Schema, found bool) {
	for _, s := range schemas {
		if s == nil {
			continue
		}
		if common == nil {
			common = s
			continue
		}
		rc, rs := numericRank(common), numericRank(s)
		switch {
		case rc > 0 && rs > 0:
			if rs > rc {
				common = s
			}
		case !common.Equal(s):
			return nil, false
		}
	}
	return common, common != nil
}

// widen converts a number to the (wider) numeric type of s.
func widen(v any, s *connect.Schema) any {
	if numericRank(s) == 0 || v == nil {
		return v
	}
	var f float64
	var n int64
	isInt := true
	switch x := v.(type) {
	case int8:
		n = int64(x)
	case int16:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case float32:
		f, isInt = float64(x), false
	case float64:
		f, isInt = x, false
	}
	switch s.Type {
	case connect.TypeInt16:
		return int16(n)
	case connect.TypeInt32:
		return int32(n)
	case connect.TypeInt64:
		return n
	case connect.TypeFloat32:
		if isInt {
			return float32(n)
		}
		return float32(f)
	case connect.TypeFloat64:
		if isInt {
			return float64(n)
		}
		return f
	}
	return v
}
