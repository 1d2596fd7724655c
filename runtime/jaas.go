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
// control flag, key=value options whose values are bare words or double-quoted strings (where a
// backslash escapes the next character, so a password may hold quotes and backslashes), and a
// closing semicolon. A Kafka client takes exactly one module.
func parseJAAS(s string) (jaasModule, error) {
	toks, err := jaasTokens(s)
	if err != nil {
		return jaasModule{}, err
	}
	var mods []jaasModule
	for i := 0; i < len(toks); {
		if toks[i].quoted || toks[i].text == ";" || toks[i].text == "=" {
			return jaasModule{}, fmt.Errorf("expected a login module class at %q", toks[i].text)
		}
		m := jaasModule{class: toks[i].text, options: map[string]string{}}
		i++
		if i >= len(toks) || toks[i].quoted || toks[i].text == ";" || toks[i].text == "=" {
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
			if !toks[i].quoted && toks[i].text == ";" {
				i++
				break
			}
			if toks[i].quoted || toks[i].text == "=" || i+2 >= len(toks) || toks[i+1].quoted || toks[i+1].text != "=" ||
				(!toks[i+2].quoted && (toks[i+2].text == ";" || toks[i+2].text == "=")) {
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

type jaasToken struct {
	text   string
	quoted bool
}

// jaasTokens splits s into words, quoted strings and the punctuation '=' and ';'.
func jaasTokens(s string) ([]jaasToken, error) {
	var toks []jaasToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '=' || c == ';':
			toks = append(toks, jaasToken{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				if s[i] == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				if s[i] == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			if !closed {
				return nil, fmt.Errorf("unterminated quoted value")
			}
			toks = append(toks, jaasToken{text: b.String(), quoted: true})
		default:
			start := i
			for i < len(s) && !strings.ContainsRune(" \t\n\r=;\"", rune(s[i])) {
				i++
			}
			toks = append(toks, jaasToken{text: s[start:i]})
		}
	}
	return toks, nil
}
