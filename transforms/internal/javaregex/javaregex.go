// Package javaregex runs the Java regular expressions that transform configurations carry on Go's
// RE2 engine: Pattern.matches (the whole input) and Matcher.replaceFirst with Java's replacement
// syntax ($1, ${name}, backslash escapes). Constructs RE2 lacks (lookaround, backreferences,
// possessive quantifiers) are reported when the pattern is compiled.
package javaregex

import (
	"fmt"
	"regexp"
	"strings"
)

// Pattern is a compiled Java regular expression.
type Pattern struct {
	expr  string
	whole *regexp.Regexp // anchored at both ends, for Matches
	find  *regexp.Regexp // unanchored, for ReplaceFirst
}

// Compile compiles expr.
func Compile(expr string) (*Pattern, error) {
	find, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	whole, err := regexp.Compile(`^(?:` + expr + `)\z`)
	if err != nil {
		return nil, err
	}
	return &Pattern{expr: expr, whole: whole, find: find}, nil
}

// String returns the expression as written.
func (p *Pattern) String() string { return p.expr }

// Matches reports whether the whole of s matches, as Matcher.matches does.
func (p *Pattern) Matches(s string) bool { return p.whole.MatchString(s) }

// piece is a literal or, when group ≥ 0, a group reference.
type piece struct {
	literal string
	group   int
}

// Replacement is a parsed Java replacement string.
type Replacement []piece

// ParseReplacement parses repl against p's groups as Matcher.appendReplacement does, failing
// where Java would: a dangling backslash or dollar, or a group p does not have.
func (p *Pattern) ParseReplacement(repl string) (Replacement, error) {
	var out Replacement
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, piece{literal: lit.String(), group: -1})
			lit.Reset()
		}
	}
	groups := p.find.NumSubexp()
	for i := 0; i < len(repl); i++ {
		switch c := repl[i]; c {
		case '\\':
			i++
			if i == len(repl) {
				return nil, fmt.Errorf("character to be escaped is missing")
			}
			lit.WriteByte(repl[i])
		case '$':
			i++
			if i == len(repl) {
				return nil, fmt.Errorf("Illegal group reference: group index is missing")
			}
			var group int
			if repl[i] == '{' {
				end := strings.IndexByte(repl[i:], '}')
				if end < 0 {
					return nil, fmt.Errorf("named capturing group is missing trailing '}'")
				}
				name := repl[i+1 : i+end]
				if name == "" {
					return nil, fmt.Errorf("named capturing group has 0 length name")
				}
				group = p.find.SubexpIndex(name)
				if group < 0 {
					return nil, fmt.Errorf("No group with name {%s}", name)
				}
				i += end
			} else {
				if repl[i] < '0' || repl[i] > '9' {
					return nil, fmt.Errorf("Illegal group reference")
				}
				group = int(repl[i] - '0')
				// Java takes further digits only while the number stays a valid group.
				for i+1 < len(repl) && repl[i+1] >= '0' && repl[i+1] <= '9' {
					next := group*10 + int(repl[i+1]-'0')
					if next > groups {
						break
					}
					group = next
					i++
				}
				if group > groups {
					return nil, fmt.Errorf("No group %d", group)
				}
			}
			flush()
			out = append(out, piece{group: group})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out, nil
}

// ReplaceFirst replaces the first match in s with repl, as Matcher.replaceFirst does; a group
// that did not take part in the match contributes nothing.
func (p *Pattern) ReplaceFirst(s string, repl Replacement) string {
	m := p.find.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:m[0]])
	for _, pc := range repl {
		if pc.group < 0 {
			b.WriteString(pc.literal)
		} else if start := m[2*pc.group]; start >= 0 {
			b.WriteString(s[start:m[2*pc.group+1]])
		}
	}
	b.WriteString(s[m[1]:])
	return b.String()
}
