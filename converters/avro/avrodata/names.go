package avrodata

import (
	"fmt"
	"strings"
	"unicode"
)

// checkName applies Avro's rule for record, enum, fixed and field names as Java's parser does: a
// letter or '_' first, then letters, digits and '_' (Unicode letters and digits count).
// Namespaces are not checked, as Avro 1.11 does not check them.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("empty name")
	}
	for i, r := range name {
		if r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)) {
			continue
		}
		if i == 0 {
			return fmt.Errorf("illegal initial character in Avro name %q (set scrub.invalid.names=true to replace it)", name)
		}
		return fmt.Errorf("illegal character in Avro name %q (set scrub.invalid.names=true to replace it)", name)
	}
	return nil
}

// scrub makes name a valid Avro name the way upstream's scrub.invalid.names does: a name of
// ASCII letters, digits and '_' not starting with a digit stays; any other is URL-encoded (UTF-8,
// %XX upper case, space as '+'), prefixed with x when it starts with a digit, and every character
// but ASCII letters, digits and '_' becomes '_'.
func scrub(name string) string {
	if name == "" || plainName(name) {
		return name
	}
	var b strings.Builder
	if c := name[0]; c >= '0' && c <= '9' {
		b.WriteByte('x')
	}
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case isNameByte(c):
			b.WriteByte(c)
		case c == '.' || c == '-' || c == '*' || c == ' ':
			b.WriteByte('_')
		default:
			b.WriteByte('_')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return false
		}
	}
	return name[0] < '0' || name[0] > '9'
}

// splitName splits a dotted full name into namespace and name, scrubbing each part when asked.
// Like Java's String.split, it drops trailing empty parts.
func splitName(full string, scrubbed bool) (namespace, name string) {
	if full == "" {
		return "", ""
	}
	parts := strings.Split(full, ".")
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if scrubbed {
		for i := range parts {
			parts[i] = scrub(parts[i])
		}
	}
	return strings.Join(parts[:len(parts)-1], "."), parts[len(parts)-1]
}

// joinName is the inverse of splitName.
func joinName(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "." + name
}
