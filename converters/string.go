package converters

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/internal/javafmt"
)

// StringConverterClass is the upstream class StringConverter is compatible with.
const StringConverterClass = "org.apache.kafka.connect.storage.StringConverter"

// EncodingConfig names the character set, as upstream's StringConverterConfig.
const EncodingConfig = "converter.encoding"

var stringConfigDef = connect.NewConfigDef().Define(connect.ConfigKey{
	Name: EncodingConfig, Type: connect.ConfigString, Default: "UTF-8", Importance: connect.High,
	Width: connect.WidthMedium, DisplayName: "Encoding",
	Validator: connect.ValidatorFunc("a supported character set", func(name string, v any) error {
		if _, err := lookupCharset(v.(string)); err != nil {
			return fmt.Errorf("Invalid value %v for configuration %s: %w", v, name, err)
		}
		return nil
	}),
	Doc: "The character set of the strings: UTF-8, US-ASCII, ISO-8859-1, UTF-16, UTF-16BE or UTF-16LE (Java names and aliases).",
})

type charset int

const (
	charsetUTF8 charset = iota
	charsetASCII
	charsetLatin1
	charsetUTF16 // big-endian with a byte order mark, as Java's "UTF-16" writes
	charsetUTF16BE
	charsetUTF16LE
)

// lookupCharset resolves a Java character set name or alias, ignoring case.
func lookupCharset(name string) (charset, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "UTF-8", "UTF8", "UNICODE-1-1-UTF-8":
		return charsetUTF8, nil
	case "US-ASCII", "ASCII", "US", "ISO646-US", "ASCII7", "646", "DEFAULT":
		return charsetASCII, nil
	case "ISO-8859-1", "ISO8859-1", "ISO8859_1", "ISO_8859_1", "ISO-LATIN-1", "LATIN1", "L1", "8859_1", "CP819", "IBM819":
		return charsetLatin1, nil
	case "UTF-16", "UTF_16", "UTF16", "UNICODE":
		return charsetUTF16, nil
	case "UTF-16BE", "UTF_16BE", "X-UTF-16BE", "UNICODEBIGUNMARKED", "ISO-10646-UCS-2":
		return charsetUTF16BE, nil
	case "UTF-16LE", "UTF_16LE", "X-UTF-16LE", "UNICODELITTLEUNMARKED":
		return charsetUTF16LE, nil
	}
	return 0, fmt.Errorf("unsupported character set %q", name)
}

// StringConverter stores values as text. Reading gives the optional string schema; writing a
// string encodes it, bytes are written unchanged, and other values are first printed as Java's
// toString would: numbers as Java prints them, Decimal as BigDecimal.toString, times as
// java.util.Date.toString in UTC ("Thu Jan 01 00:00:00 UTC 1970"), arrays as [a, b], maps as
// {k=v} in key order, structs as Struct{a=1,b=x}, and bytes nested in them as base64.
type StringConverter struct{ charset charset }

// NewStringConverter returns a StringConverter for UTF-8.
func NewStringConverter() *StringConverter { return &StringConverter{} }

// Version returns the plugin version.
func (*StringConverter) Version() string { return Version }

// ConfigDef returns the converter's configuration keys.
func (*StringConverter) ConfigDef() *connect.ConfigDef { return stringConfigDef }

// Configure reads converter.encoding.
func (c *StringConverter) Configure(props map[string]string, isKey bool) error {
	cfg, err := stringConfigDef.Parse(props)
	if err != nil {
		return fmt.Errorf("configure %s: %w", StringConverterClass, err)
	}
	c.charset, err = lookupCharset(cfg.String(EncodingConfig))
	return err
}

// FromConnectData writes value as text in the configured character set.
func (c *StringConverter) FromConnectData(topic string, schema *connect.Schema, value any) ([]byte, error) {
	switch v := value.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case string:
		return encodeString(c.charset, v), nil
	}
	text, err := appendJavaString(nil, value)
	if err != nil {
		return nil, fmt.Errorf("StringConverter on topic %s: %w", topic, err)
	}
	return encodeString(c.charset, string(text)), nil
}

// ToConnectData reads data as a string with the optional string schema. Malformed input becomes
// U+FFFD, as Java's decoder does.
func (c *StringConverter) ToConnectData(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return connect.OptionalStringSchema, nil, nil
	}
	return connect.OptionalStringSchema, decodeString(c.charset, data), nil
}

func encodeString(cs charset, s string) []byte {
	switch cs {
	case charsetUTF8:
		if utf8.ValidString(s) {
			return []byte(s)
		}
		return []byte(strings.ToValidUTF8(s, "\uFFFD"))
	case charsetASCII, charsetLatin1:
		limit := rune(0x7F)
		if cs == charsetLatin1 {
			limit = 0xFF
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > limit {
				r = '?' // Java's replacement for unmappable characters
			}
			out = append(out, byte(r))
		}
		return out
	}
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units)+2)
	if cs == charsetUTF16 {
		out = append(out, 0xFE, 0xFF)
	}
	for _, u := range units {
		if cs == charsetUTF16LE {
			out = binary.LittleEndian.AppendUint16(out, u)
		} else {
			out = binary.BigEndian.AppendUint16(out, u)
		}
	}
	return out
}

func decodeString(cs charset, data []byte) string {
	switch cs {
	case charsetUTF8:
		if utf8.Valid(data) {
			return string(data)
		}
		return strings.ToValidUTF8(string(data), "\uFFFD")
	case charsetASCII, charsetLatin1:
		var b strings.Builder
		b.Grow(len(data))
		for _, c := range data {
			if cs == charsetASCII && c > 0x7F {
				b.WriteRune(utf8.RuneError)
				continue
			}
			b.WriteRune(rune(c))
		}
		return b.String()
	}
	order := binary.ByteOrder(binary.BigEndian)
	switch {
	case cs == charsetUTF16LE:
		order = binary.LittleEndian
	case cs == charsetUTF16 && len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		order, data = binary.LittleEndian, data[2:]
	case cs == charsetUTF16 && len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		data = data[2:]
	}
	units := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	s := string(utf16.Decode(units))
	if len(data)%2 == 1 {
		s += "\uFFFD"
	}
	return s
}

// appendJavaString prints a value as its Java class's toString would.
func appendJavaString(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return append(b, x...), nil
	case time.Time:
		return x.UTC().AppendFormat(b, "Mon Jan 02 15:04:05 MST 2006"), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ", "...)
			}
			var err error
			if b, err = appendJavaString(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		entries := make([]string, 0, len(x))
		for k, e := range x {
			t, err := appendJavaString([]byte(k+"="), e)
			if err != nil {
				return nil, err
			}
			entries = append(entries, string(t))
		}
		return appendJavaMap(b, entries), nil
	case map[any]any:
		entries := make([]string, 0, len(x))
		for k, e := range x {
			t, err := appendJavaString(nil, k)
			if err != nil {
				return nil, err
			}
			if t, err = appendJavaString(append(t, '='), e); err != nil {
				return nil, err
			}
			entries = append(entries, string(t))
		}
		return appendJavaMap(b, entries), nil
	case *connect.Struct:
		b = append(b, "Struct{"...)
		first := true
		for i, f := range x.Schema().Fields {
			fv := x.Raw(i)
			if fv == nil {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, f.Name...)
			b = append(b, '=')
			var err error
			if b, err = appendJavaString(b, fv); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []byte:
		// Java would print the array's identity ([B@1b6d3586); base64 at least keeps the content.
		return base64.StdEncoding.AppendEncode(b, x), nil
	case float32:
		return javafmt.AppendFloat(b, x), nil
	case float64:
		return javafmt.AppendDouble(b, x), nil
	}
	return appendJavaScalar(b, v)
}

func appendJavaMap(b []byte, entries []string) []byte {
	slices.Sort(entries)
	b = append(b, '{')
	b = append(b, strings.Join(entries, ", ")...)
	return append(b, '}')
}

// StringHeaderConverter is StringConverter for headers (header.converter=StringConverter).
type StringHeaderConverter struct{ c StringConverter }

// NewStringHeaderConverter returns a StringHeaderConverter for UTF-8.
func NewStringHeaderConverter() *StringHeaderConverter { return &StringHeaderConverter{} }

// Version returns the plugin version.
func (*StringHeaderConverter) Version() string { return Version }

// ConfigDef returns the converter's configuration keys.
func (*StringHeaderConverter) ConfigDef() *connect.ConfigDef { return stringConfigDef }

// Configure reads converter.encoding.
func (h *StringHeaderConverter) Configure(props map[string]string) error {
	return h.c.Configure(props, false)
}

// FromConnectHeader writes one header value as text.
func (h *StringHeaderConverter) FromConnectHeader(topic, key string, schema *connect.Schema, value any) ([]byte, error) {
	return h.c.FromConnectData(topic, schema, value)
}

// ToConnectHeader reads one header value as a string.
func (h *StringHeaderConverter) ToConnectHeader(topic, key string, data []byte) (*connect.Schema, any, error) {
	return h.c.ToConnectData(topic, data)
}
