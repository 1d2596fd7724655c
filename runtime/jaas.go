package runtime

import (
	"fmt"
	"strings"
)

// jaasModule is the one login module a Kafka client's sasl.jaas.config names, as in
// `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`.
type jaasModule struct {
	class   string
	flag    string
	options map[string]string
}

// parseJAAS parses sasl.jaas.config as upstream's JaasConfig does: a login module class, a
// control flag, key=value options whose values are words or quoted strings (so a password may hold
// quotes, backslashes and semicolons), and a closing semicolon. A Kafka client takes exactly one
// module.
func parseJAAS(s string) (jaasModule, error) {
	toks := jaasTokens(s)
	var mods []jaasModule
	for i := 0; i < len(toks); {
		if toks[i].punct {
			return jaasModule{}, fmt.Errorf("expected a login module class at %q", toks[i].text)
		}
		m := jaasModule{class: toks[i].text, options: map[string]string{}}
		i++
		if i >= len(toks) || toks[i].punct {
			return jaasModule{}, fmt.Errorf("login module %s: missing control flag (required, requisite, sufficient or optional)", m.class)
		}
		m.flag = strings.ToLower(toks[i].text)
		switch m.flag {
		case "required", "requisite", "sufficient", "optional":
		default:
			return jaasModule{}, fmt.Errorf("login module %s: invalid control flag %q (required, requisite, sufficient or optional)", m.class, toks[i].text)
		}
		i++
		for {
			if i >= len(toks) {
				return jaasModule{}, fmt.Errorf("login module %s: missing ';' at the end", m.class)
			}
			if toks[i].punct && toks[i].text == ";" {
				i++
				break
			}
			if toks[i].punct || i+2 >= len(toks) || toks[i+1].text != "=" || !toks[i+1].punct || toks[i+2].punct {
				return jaasModule{}, fmt.Errorf("login module %s: expected key=value at %q", m.class, toks[i].text)
			}
			m.options[toks[i].text] = toks[i+2].text
			i += 3
		}
		mods = append(mods, m)
	}
	if len(mods) != 1 {
		return jaasModule{}, fmt.Errorf("it names %d login modules; a Kafka client takes exactly 1", len(mods))
	}
	return mods[0], nil
}

// jaasToken is a word or quoted string, or punctuation ('=' or ';').
type jaasToken struct {
	text  string
	punct bool
}

// jaasTokens splits s as upstream's JaasConfig sets up Java's StreamTokenizer: bytes up to 32 are
// white space; '=' and ';' stand alone; '/' starts a comment to the end of the line, "/*" one to
// "*/"; a value in double or single quotes ends at its quote or the end of the line, with Java's
// escapes (\n, \t, octal \ddd; a backslash before any other character keeps that character);
// everything else is a word.
func jaasTokens(s string) []jaasToken {
	var toks []jaasToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c <= ' ':
			i++
		case c == '=' || c == ';':
			toks = append(toks, jaasToken{text: string(c), punct: true})
			i++
		case c == '/':
			if strings.HasPrefix(s[i:], "/*") {
				end := strings.Index(s[i+2:], "*/")
				if end < 0 {
					return toks
				}
				i += 2 + end + 2
				continue
			}
			for i < len(s) && s[i] != '\n' && s[i] != '\r' {
				i++
			}
		case c == '"' || c == '\'':
			text, n := jaasQuoted(s[i+1:], c)
			toks = append(toks, jaasToken{text: text})
			i += 1 + n
		default:
			start := i
			for i < len(s) && s[i] > ' ' && !strings.ContainsRune("=;/\"'", rune(s[i])) {
				i++
			}
			toks = append(toks, jaasToken{text: s[start:i]})
		}
	}
	return toks
}

// jaasEscapes are the letters Java's StreamTokenizer turns into control characters after a
// backslash.
var jaasEscapes = map[byte]byte{'a': 7, 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

// jaasQuoted reads a quoted value after its opening quote q, returning it and the bytes consumed.
func jaasQuoted(s string, q byte) (string, int) {
	var b strings.Builder
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == q:
			return b.String(), i + 1
		case c == '\n' || c == '\r':
			return b.String(), i
		case c == '\\' && i+1 < len(s):
			e := s[i+1]
			i += 2
			switch {
			case e >= '0' && e <= '7':
				// Up to three octal digits, only two when the first is above 3, as Java does.
				v, digits := int(e-'0'), 2
				if e <= '3' {
					digits = 3
				}
				for n := 1; n < digits && i < len(s) && s[i] >= '0' && s[i] <= '7'; n++ {
					v = v*8 + int(s[i]-'0')
					i++
				}
				b.WriteByte(byte(v))
			case jaasEscapes[e] != 0:
				b.WriteByte(jaasEscapes[e])
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), i
}
