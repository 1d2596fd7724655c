package jsonconverter

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/fieldpath"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// Limits of Jackson's default StreamReadConstraints, which keep hostile input from exhausting the
// stack or the CPU.
const (
	maxDepth     = 1000
	maxNumberLen = 1000
)

// decoder reads JSON straight into Connect values, guided by the schema, without building an
// intermediate tree.
type decoder struct {
	c       *Converter
	data    []byte
	pos     int
	depth   int
	scratch []byte // unescaped string contents, valid until the next string is read
}

func (d *decoder) syntaxErr(format string, args ...any) error {
	return &connect.DataError{Msg: fmt.Sprintf("invalid JSON at offset %d: %s", d.pos, fmt.Sprintf(format, args...))}
}

func (d *decoder) skipBOM() {
	if len(d.data) >= 3 && d.data[0] == 0xEF && d.data[1] == 0xBB && d.data[2] == 0xBF {
		d.pos = 3
	}
}

func (d *decoder) skipWS() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// end checks that only whitespace follows the value. Jackson ignores trailing bytes; accepting
// them here would hide truncated or concatenated messages.
func (d *decoder) end() error {
	d.skipWS()
	if d.pos != len(d.data) {
		return d.syntaxErr("unexpected data after the JSON value")
	}
	return nil
}

// peek returns the next non-whitespace byte.
func (d *decoder) peek() (byte, error) {
	d.skipWS()
	if d.pos >= len(d.data) {
		return 0, d.syntaxErr("unexpected end of input")
	}
	return d.data[d.pos], nil
}

func (d *decoder) expect(c byte) error {
	got, err := d.peek()
	if err != nil {
		return err
	}
	if got != c {
		return d.syntaxErr("expected %q, found %q", c, got)
	}
	d.pos++
	return nil
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.syntaxErr("nesting deeper than %d", maxDepth)
	}
	d.pos++
	return nil
}

// next consumes the ',' between elements or the closing delimiter; it reports whether another
// element follows.
func (d *decoder) next(closing byte) (bool, error) {
	c, err := d.peek()
	if err != nil {
		return false, err
	}
	d.pos++
	switch c {
	case ',':
		return true, nil
	case closing:
		d.depth--
		return false, nil
	}
	d.pos--
	return false, d.syntaxErr("expected ',' or %q, found %q", closing, c)
}

// first reports whether a just-opened array or object has an element, consuming an immediate close.
func (d *decoder) first(closing byte) (bool, error) {
	c, err := d.peek()
	if err != nil {
		return false, err
	}
	if c == closing {
		d.pos++
		d.depth--
		return false, nil
	}
	return true, nil
}

func (d *decoder) literal(word string) error {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.syntaxErr("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// number scans a JSON number; leading zeros are accepted, as Kafka's JsonDeserializer enables
// ALLOW_LEADING_ZEROS_FOR_NUMBERS. integral is false when the token has a fraction or exponent.
func (d *decoder) number() (tok []byte, integral bool, err error) {
	start := d.pos
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
		return i > j
	}
	if !digits() {
		if i < len(d.data) {
			d.pos = i
			return nil, false, d.syntaxErr("unexpected character %q", d.data[i])
		}
		return nil, false, d.syntaxErr("unexpected end of input")
	}
	integral = true
	if i < len(d.data) && d.data[i] == '.' {
		i++
		integral = false
		if !digits() {
			d.pos = i
			return nil, false, d.syntaxErr("a decimal point must be followed by digits")
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		integral = false
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if !digits() {
			d.pos = i
			return nil, false, d.syntaxErr("an exponent must have digits")
		}
	}
	if i-start > maxNumberLen {
		return nil, false, d.syntaxErr("number longer than %d characters", maxNumberLen)
	}
	d.pos = i
	return d.data[start:i], integral, nil
}

// readString reads a JSON string at d.pos. The result aliases d.data or d.scratch, so callers copy
// it before reading another string.
func (d *decoder) readString() ([]byte, error) {
	d.pos++
	start := d.pos
	for i := start; i < len(d.data); {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return d.data[start:i], nil
		case c == '\\':
			d.scratch = append(d.scratch[:0], d.data[start:i]...)
			d.pos = i
			return d.readEscaped()
		case c < 0x20:
			d.pos = i
			return nil, d.syntaxErr("unescaped control character in string")
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d.data[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				return nil, d.syntaxErr("invalid UTF-8 in string")
			}
			i += size
		}
	}
	d.pos = len(d.data)
	return nil, d.syntaxErr("unterminated string")
}

func (d *decoder) readEscaped() ([]byte, error) {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return d.scratch, nil
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return nil, d.syntaxErr("unterminated string")
			}
			esc := d.data[d.pos+1]
			d.pos += 2
			switch esc {
			case '"', '\\', '/':
				d.scratch = append(d.scratch, esc)
			case 'b':
				d.scratch = append(d.scratch, '\b')
			case 'f':
				d.scratch = append(d.scratch, '\f')
			case 'n':
				d.scratch = append(d.scratch, '\n')
			case 'r':
				d.scratch = append(d.scratch, '\r')
			case 't':
				d.scratch = append(d.scratch, '\t')
			case 'u':
				r, err := d.hex4()
				if err != nil {
					return nil, err
				}
				if utf16.IsSurrogate(r) {
					r = d.lowSurrogate(r)
				}
				d.scratch = utf8.AppendRune(d.scratch, r)
			default:
				d.pos -= 2
				return nil, d.syntaxErr("invalid escape \\%c", esc)
			}
		case c < 0x20:
			return nil, d.syntaxErr("unescaped control character in string")
		case c < utf8.RuneSelf:
			d.scratch = append(d.scratch, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && size == 1 {
				return nil, d.syntaxErr("invalid UTF-8 in string")
			}
			d.scratch = append(d.scratch, d.data[d.pos:d.pos+size]...)
			d.pos += size
		}
	}
	return nil, d.syntaxErr("unterminated string")
}

func (d *decoder) hex4() (rune, error) {
	if len(d.data)-d.pos < 4 {
		return 0, d.syntaxErr("truncated \\u escape")
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, d.syntaxErr("invalid \\u escape")
		}
	}
	d.pos += 4
	return r, nil
}

// lowSurrogate completes a UTF-16 pair begun by the escaped high surrogate hi. A lone surrogate,
// which Java strings can hold but UTF-8 cannot, becomes U+FFFD.
func (d *decoder) lowSurrogate(hi rune) rune {
	if hi >= 0xDC00 || len(d.data)-d.pos < 6 || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
		return utf8.RuneError
	}
	save := d.pos
	d.pos += 2
	lo, err := d.hex4()
	if err != nil || lo < 0xDC00 || lo > 0xDFFF {
		d.pos = save
		return utf8.RuneError
	}
	return utf16.DecodeRune(hi, lo)
}

// skipValue checks and skips one JSON value.
func (d *decoder) skipValue() error {
	c, err := d.peek()
	if err != nil {
		return err
	}
	switch c {
	case '{':
		if err := d.enter(); err != nil {
			return err
		}
		more, err := d.first('}')
		for ; more && err == nil; more, err = d.next('}') {
			if _, err = d.memberName(); err != nil {
				return err
			}
			if err = d.skipValue(); err != nil {
				return err
			}
		}
		return err
	case '[':
		if err := d.enter(); err != nil {
			return err
		}
		more, err := d.first(']')
		for ; more && err == nil; more, err = d.next(']') {
			if err = d.skipValue(); err != nil {
				return err
			}
		}
		return err
	case '"':
		_, err := d.readString()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	_, _, err = d.number()
	return err
}

// memberName reads an object member's name and the ':' after it. The name aliases the input or
// the scratch buffer.
func (d *decoder) memberName() ([]byte, error) {
	c, err := d.peek()
	if err != nil {
		return nil, err
	}
	if c != '"' {
		return nil, d.syntaxErr("expected a member name, found %q", c)
	}
	name, err := d.readString()
	if err != nil {
		return nil, err
	}
	if err := d.expect(':'); err != nil {
		return nil, err
	}
	return name, nil
}

// envelope scans {"schema":…,"payload":…}, returning the schema's raw JSON and the payload's span.
// Members other than these two, or a missing one, make it no envelope; a repeated member counts
// once, its last value winning, as in Jackson's ObjectNode.
func (d *decoder) envelope() (schemaRaw []byte, payloadStart, payloadEnd int, err error) {
	c, err := d.peek()
	if err != nil {
		return nil, 0, 0, err
	}
	if c != '{' {
		if err := d.skipValue(); err != nil {
			return nil, 0, 0, err
		}
		if err := d.end(); err != nil {
			return nil, 0, 0, err
		}
		return nil, 0, 0, ErrNoEnvelope
	}
	if err := d.enter(); err != nil {
		return nil, 0, 0, err
	}
	var haveSchema, havePayload, other bool
	more, err := d.first('}')
	for ; more && err == nil; more, err = d.next('}') {
		name, err := d.memberName()
		if err != nil {
			return nil, 0, 0, err
		}
		which := 0
		switch string(name) {
		case "schema":
			which = 1
		case "payload":
			which = 2
		default:
			other = true
		}
		d.skipWS()
		start := d.pos
		if err := d.skipValue(); err != nil {
			return nil, 0, 0, err
		}
		switch which {
		case 1:
			schemaRaw, haveSchema = d.data[start:d.pos], true
		case 2:
			payloadStart, payloadEnd, havePayload = start, d.pos, true
		}
	}
	if err != nil {
		return nil, 0, 0, err
	}
	if other || !haveSchema || !havePayload {
		return nil, 0, 0, ErrNoEnvelope
	}
	return schemaRaw, payloadStart, payloadEnd, nil
}

func isNullLiteral(raw []byte) bool { return string(raw) == "null" }

// nullValue is what a JSON null (or a missing struct field) becomes under schema s.
func (c *Converter) nullValue(s *connect.Schema) (any, error) {
	switch {
	case s == nil:
		return nil, nil
	case s.Default != nil && c.cfg.replaceNull:
		return s.Default, nil
	case s.Optional:
		return nil, nil
	}
	return nil, dataErr("null value for a required %s field", s.Type)
}

func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func kindErr(s *connect.Schema, want string, found byte) error {
	name := s.Type.String()
	if s.Name != "" {
		name = shortLogicalName(s.Name)
	}
	return dataErr("a %s value must be %s, found %s", name, want, jsonKind(found))
}

// value decodes the JSON value at d.pos under schema s (schemaless when s is nil).
func (d *decoder) value(s *connect.Schema) (any, error) {
	c, err := d.peek()
	if err != nil {
		return nil, err
	}
	if c == 'n' {
		if err := d.literal("null"); err != nil {
			return nil, err
		}
		return d.c.nullValue(s)
	}
	if s == nil {
		return d.schemaless()
	}
	switch s.Name {
	case connect.DecimalName:
		return d.decimal(s, c)
	case connect.DateName, connect.TimeName, connect.TimestampName:
		return d.temporal(s, c)
	}
	switch s.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64:
		if c != '-' && (c < '0' || c > '9') {
			return nil, kindErr(s, "a number", c)
		}
		return d.integer(s.Type)
	case connect.TypeFloat32, connect.TypeFloat64:
		return d.float(s, c)
	case connect.TypeBoolean:
		switch c {
		case 't':
			return true, d.literal("true")
		case 'f':
			return false, d.literal("false")
		}
		return nil, kindErr(s, "a boolean", c)
	case connect.TypeString:
		if c != '"' {
			return nil, kindErr(s, "a string", c)
		}
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case connect.TypeBytes:
		if c != '"' {
			return nil, kindErr(s, "a base64 string", c)
		}
		return d.base64()
	case connect.TypeArray:
		if c != '[' {
			return nil, kindErr(s, "an array", c)
		}
		return d.array(s.ValSchema)
	case connect.TypeMap:
		return d.mapValue(s, c)
	case connect.TypeStruct:
		if c != '{' {
			return nil, kindErr(s, "an object", c)
		}
		return d.structValue(s)
	}
	return nil, dataErr("unsupported schema type %s", s.Type)
}

func (d *decoder) base64() ([]byte, error) {
	b, err := d.readString()
	if err != nil {
		return nil, err
	}
	out := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(out, b)
	if err != nil {
		return nil, dataErr("invalid base64 bytes: %v", err)
	}
	return out[:n], nil
}

// bstr views b as a string for calls that do not keep it, saving a copy.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// parseInt parses an integral token (optional '-', digits) into an int64.
func parseInt(tok []byte) (int64, bool) {
	neg := tok[0] == '-'
	if neg {
		tok = tok[1:]
	}
	var u uint64
	for _, c := range tok {
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

func intRange(t connect.Type) (lo, hi int64) {
	switch t {
	case connect.TypeInt8:
		return math.MinInt8, math.MaxInt8
	case connect.TypeInt16:
		return math.MinInt16, math.MaxInt16
	case connect.TypeInt32:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// integerToken reads a number that must be an integer. Tokens like 1.0 or 1e3 are accepted when
// their value is exactly integral; 1.5 is an error where upstream would truncate it.
func (d *decoder) integerToken() (int64, []byte, error) {
	tok, integral, err := d.number()
	if err != nil {
		return 0, nil, err
	}
	if integral {
		if n, ok := parseInt(tok); ok {
			return n, tok, nil
		}
		return 0, tok, dataErr("integer %s is out of range", tok)
	}
	dec, err := parseDecimal(tok)
	if err != nil {
		return 0, tok, err
	}
	n, ok := exactInt64(dec)
	if !ok {
		return 0, tok, dataErr("%s is not an integer in range", tok)
	}
	return n, tok, nil
}

func (d *decoder) integer(t connect.Type) (any, error) {
	n, tok, err := d.integerToken()
	if err != nil {
		return nil, err
	}
	if lo, hi := intRange(t); n < lo || n > hi {
		return nil, dataErr("%s is out of range for %s", tok, t)
	}
	switch t {
	case connect.TypeInt8:
		return int8(n), nil
	case connect.TypeInt16:
		return int16(n), nil
	case connect.TypeInt32:
		return int32(n), nil
	}
	return n, nil
}

// exactInt64 returns d's value when it is an integer that fits an int64.
func exactInt64(d connect.Decimal) (int64, bool) {
	u := d.Unscaled
	if u.Sign() == 0 {
		return 0, true
	}
	digits := len(u.String()) // rare path: only for integers written with a fraction or exponent
	if d.Scale < 0 {
		if int64(digits)-int64(d.Scale) > 20 {
			return 0, false
		}
		v := new(big.Int).Mul(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.Scale)), nil))
		return v.Int64(), v.IsInt64()
	}
	if int64(d.Scale) > int64(digits) {
		return 0, false
	}
	q, r := new(big.Int).QuoRem(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale)), nil), new(big.Int))
	if r.Sign() != 0 {
		return 0, false
	}
	return q.Int64(), q.IsInt64()
}

// parseDecimal reads a number token exactly, as Java's BigDecimal(String): 1.50 has scale 2 and
// 1E+3 scale -3.
func parseDecimal(tok []byte) (connect.Decimal, error) {
	mant, exp := tok, int64(0)
	for i, c := range tok {
		if c == 'e' || c == 'E' {
			mant = tok[:i]
			e := tok[i+1:]
			neg := false
			if e[0] == '+' || e[0] == '-' {
				neg = e[0] == '-'
				e = e[1:]
			}
			for _, c := range e {
				exp = exp*10 + int64(c-'0')
				if exp > math.MaxInt32+int64(maxNumberLen) {
					return connect.Decimal{}, dataErr("exponent of %s is out of range", tok)
				}
			}
			if neg {
				exp = -exp
			}
			break
		}
	}
	frac := 0
	digits := make([]byte, 0, len(mant))
	seenPoint := false
	for _, c := range mant {
		switch {
		case c == '.':
			seenPoint = true
		case c == '-':
			digits = append(digits, c)
		default:
			digits = append(digits, c)
			if seenPoint {
				frac++
			}
		}
	}
	scale := int64(frac) - exp
	if scale < math.MinInt32 || scale > math.MaxInt32 {
		return connect.Decimal{}, dataErr("scale of %s is out of range", tok)
	}
	u, ok := new(big.Int).SetString(string(digits), 10)
	if !ok {
		return connect.Decimal{}, dataErr("invalid number %s", tok)
	}
	return connect.Decimal{Unscaled: u, Scale: int32(scale)}, nil
}

// parseFloat converts a number token to the nearest float of the given size, as Jackson does
// through BigDecimal: overflow gives ±Infinity, and zero is never negative (BigDecimal has no -0).
func parseFloat(tok []byte, bitSize int) float64 {
	f, _ := strconv.ParseFloat(bstr(tok), bitSize)
	if f == 0 {
		return 0
	}
	return f
}

func (d *decoder) float(s *connect.Schema, c byte) (any, error) {
	var f float64
	switch {
	case c == '"':
		// Jackson writes non-finite numbers as these strings; read them back.
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		var ok bool
		if f, ok = javafmt.ParseNonFinite(string(b)); !ok {
			return nil, dataErr("a %s value must be a number, found the string %q", s.Type, b)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		bitSize := 64
		if s.Type == connect.TypeFloat32 {
			bitSize = 32
		}
		tok, _, err := d.number()
		if err != nil {
			return nil, err
		}
		f = parseFloat(tok, bitSize)
	default:
		return nil, kindErr(s, "a number", c)
	}
	if s.Type == connect.TypeFloat32 {
		return float32(f), nil
	}
	return f, nil
}

func (d *decoder) decimal(s *connect.Schema, c byte) (any, error) {
	switch {
	case c == '"':
		raw, err := d.base64()
		if err != nil {
			return nil, err
		}
		if len(raw) == 0 {
			return nil, dataErr("a Decimal value needs at least one byte")
		}
		scale, err := connect.DecimalScale(s)
		if err != nil {
			return nil, &connect.DataError{Msg: err.Error()}
		}
		return connect.DecimalFromBytes(raw, scale), nil
	case c == '-' || (c >= '0' && c <= '9'):
		tok, _, err := d.number()
		if err != nil {
			return nil, err
		}
		return parseDecimal(tok)
	}
	return nil, kindErr(s, "a number or base64 string", c)
}

func (d *decoder) temporal(s *connect.Schema, c byte) (any, error) {
	if c != '-' && (c < '0' || c > '9') {
		return nil, kindErr(s, "an integer", c)
	}
	tok, integral, err := d.number()
	if err != nil {
		return nil, err
	}
	n, ok := int64(0), false
	if integral {
		n, ok = parseInt(tok)
	}
	switch s.Name {
	case connect.DateName:
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			return nil, dataErr("a Date value must be an int32 count of days, found %s", tok)
		}
		return connect.DaysToDate(int32(n)), nil
	case connect.TimeName:
		if !ok || n < 0 || n > msPerDay {
			return nil, dataErr("a Time value must be milliseconds since midnight (0 to 86400000), found %s", tok)
		}
		return time.UnixMilli(n).UTC(), nil
	}
	if !ok {
		return nil, dataErr("a Timestamp value must be an int64 count of milliseconds, found %s", tok)
	}
	return time.UnixMilli(n).UTC(), nil
}

func (d *decoder) array(elem *connect.Schema) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	arr := []any{}
	more, err := d.first(']')
	for ; more && err == nil; more, err = d.next(']') {
		v, err := d.value(elem)
		if err != nil {
			return nil, fieldpath.AtIndex(len(arr), err)
		}
		arr = append(arr, v)
	}
	if err != nil {
		return nil, err
	}
	return arr, nil
}

func (d *decoder) mapValue(s *connect.Schema, c byte) (any, error) {
	if s.KeySchema.Type == connect.TypeString {
		if c != '{' {
			return nil, dataErr("a map with string keys must be a JSON object, found %s", jsonKind(c))
		}
		return d.stringMap(s.ValSchema)
	}
	switch s.KeySchema.Type {
	case connect.TypeBytes, connect.TypeArray, connect.TypeMap:
		return nil, dataErr("map keys of type %s cannot be represented", s.KeySchema.Type)
	}
	if c != '[' {
		return nil, dataErr("a map with %s keys must be a JSON array of [key, value] pairs, found %s", s.KeySchema.Type, jsonKind(c))
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	m := map[any]any{}
	more, err := d.first(']')
	for i := 0; more && err == nil; more, err = d.next(']') {
		c, err := d.peek()
		if err != nil {
			return nil, err
		}
		if c != '[' {
			return nil, fieldpath.AtIndex(i, dataErr("a map entry must be a [key, value] array, found %s", jsonKind(c)))
		}
		if err := d.enter(); err != nil {
			return nil, err
		}
		k, err := d.value(s.KeySchema)
		if err != nil {
			return nil, fieldpath.AtIndex(i, err)
		}
		if err := d.expect(','); err != nil {
			return nil, fieldpath.AtIndex(i, dataErr("a map entry must have exactly two elements"))
		}
		v, err := d.value(s.ValSchema)
		if err != nil {
			return nil, fieldpath.AtIndex(i, err)
		}
		if more, err := d.next(']'); err != nil || more {
			return nil, fieldpath.AtIndex(i, dataErr("a map entry must have exactly two elements"))
		}
		m[k] = v
		i++
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (d *decoder) stringMap(valSchema *connect.Schema) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	m := map[string]any{}
	more, err := d.first('}')
	for ; more && err == nil; more, err = d.next('}') {
		name, err := d.memberName()
		if err != nil {
			return nil, err
		}
		k := string(name)
		v, err := d.value(valSchema)
		if err != nil {
			return nil, fieldpath.AtKey(k, err)
		}
		m[k] = v
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (d *decoder) structValue(s *connect.Schema) (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	st := connect.NewStruct(s)
	expected := 0 // members usually come in schema order
	more, err := d.first('}')
	for ; more && err == nil; more, err = d.next('}') {
		name, err := d.memberName()
		if err != nil {
			return nil, err
		}
		idx := -1
		if expected < len(s.Fields) && s.Fields[expected].Name == string(name) {
			idx = expected
		} else {
			for i := range s.Fields {
				if s.Fields[i].Name == string(name) {
					idx = i
					break
				}
			}
		}
		if idx < 0 {
			if err := d.skipValue(); err != nil {
				return nil, err
			}
			continue
		}
		expected = idx + 1
		if c, err := d.peek(); err == nil && c == 'n' {
			// Nulls are resolved below with the missing fields, so a repeated member still wins.
			if err := d.literal("null"); err != nil {
				return nil, err
			}
			st.SetAt(idx, nil)
			continue
		}
		v, err := d.value(s.Fields[idx].Schema)
		if err != nil {
			return nil, fieldpath.InField(s.Fields[idx].Name, err)
		}
		st.SetAt(idx, v)
	}
	if err != nil {
		return nil, err
	}
	for i := range s.Fields {
		if st.Raw(i) != nil {
			continue
		}
		v, err := d.c.nullValue(s.Fields[i].Schema)
		if err != nil {
			return nil, fieldpath.InField(s.Fields[i].Name, err)
		}
		st.SetAt(i, v)
	}
	return st, nil
}

// schemaless decodes a value without schema: objects become map[string]any, integers int64
// (float64 when beyond int64, where upstream would wrap around), other numbers float64.
func (d *decoder) schemaless() (any, error) {
	c, err := d.peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case '{':
		return d.stringMap(nil)
	case '[':
		return d.array(nil)
	case '"':
		b, err := d.readString()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case 't':
		return true, d.literal("true")
	case 'f':
		return false, d.literal("false")
	case 'n':
		return nil, d.literal("null")
	}
	tok, integral, err := d.number()
	if err != nil {
		return nil, err
	}
	if integral {
		if n, ok := parseInt(tok); ok {
			return n, nil
		}
	}
	return parseFloat(tok, 64), nil
}
