// Package properties reads and writes Java .properties files with the exact
// semantics of java.util.Properties.load and store.
//
// Two deliberate differences from Java follow from Go strings being UTF-8:
// input is read as UTF-8 (Java's load(InputStream) reads ISO-8859-1, and
// load(Reader) reads whatever the reader decodes), and a \uXXXX escape that
// yields an unpaired UTF-16 surrogate becomes U+FFFD, because a Go string
// cannot hold one. Escaped surrogate pairs combine into one character, as
// they do in a Java string.
package properties

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Error reports where and why a properties file could not be parsed.
type Error struct {
	File string // the name given to Parse
	Line int    // 1-based physical line of the offending text
	Key  string // empty when the problem is in the key itself
	Msg  string // what is wrong, in lower case
}

// Error formats the error as file:line: key "k": msg on one line.
func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: key %q: %s", e.File, e.Line, e.Key, e.Msg)
}

const msgMalformedU = `malformed \uxxxx encoding`

// Properties is a parsed properties file.
type Properties struct {
	keys    []string
	entries map[string]entry
}

type entry struct {
	value string
	line  int
}

// Get returns the value of key and whether the key was defined.
func (p *Properties) Get(key string) (string, bool) {
	e, ok := p.entries[key]
	return e.value, ok
}

// Keys returns the keys in the order of their first definition.
func (p *Properties) Keys() []string {
	return append([]string(nil), p.keys...)
}

// Map returns a copy of all key/value pairs.
func (p *Properties) Map() map[string]string {
	m := make(map[string]string, len(p.entries))
	for k, e := range p.entries {
		m[k] = e.value
	}
	return m
}

// Line returns the 1-based line on which key was last defined, or 0 if it
// was never defined.
func (p *Properties) Line(key string) int {
	return p.entries[key].line
}

func (p *Properties) set(key, value string, line int) {
	if _, ok := p.entries[key]; !ok {
		p.keys = append(p.keys, key)
	}
	p.entries[key] = entry{value: value, line: line}
}

// ParseFile parses the properties file at path.
func ParseFile(path string) (*Properties, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load properties: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads properties from r; name is used in error messages (a file path).
func Parse(r io.Reader, name string) (*Properties, error) {
	in, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read properties %s: %w", name, err)
	}
	lines := newLineIndex(in)
	if !utf8.Valid(in) {
		return nil, &Error{File: name, Line: lines.at(firstInvalidUTF8(in)),
			Msg: `invalid UTF-8 (write other encodings' characters as \uXXXX escapes)`}
	}
	p := &Properties{entries: make(map[string]entry)}
	s := scanner{in: in}
	for s.next() {
		keyEnd, valStart := split(s.buf)
		key, bad := unescape(s.buf[:keyEnd])
		if bad >= 0 {
			return nil, &Error{File: name, Line: lines.at(s.src[bad]), Msg: msgMalformedU}
		}
		value, bad := unescape(s.buf[valStart:])
		if bad >= 0 {
			return nil, &Error{File: name, Line: lines.at(s.src[valStart+bad]), Key: key, Msg: msgMalformedU}
		}
		p.set(key, value, lines.at(s.start))
	}
	return p, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// lineIndex maps byte offsets to 1-based physical line numbers, counting
// "\n", "\r" and "\r\n" each as one line end.
type lineIndex []int // start offset of every line after the first

func newLineIndex(in []byte) lineIndex {
	var starts lineIndex
	for i := 0; i < len(in); i++ {
		switch in[i] {
		case '\r':
			if i+1 < len(in) && in[i+1] == '\n' {
				i++
			}
			starts = append(starts, i+1)
		case '\n':
			starts = append(starts, i+1)
		}
	}
	return starts
}

func (l lineIndex) at(off int) int {
	return 1 + sort.Search(len(l), func(i int) bool { return l[i] > off })
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// scanner splits input into logical lines the way Java's
// Properties.LineReader does. It works on bytes rather than UTF-16 units,
// which is equivalent because every byte it reacts to is ASCII and UTF-8
// never uses ASCII bytes inside a multi-byte character.
type scanner struct {
	in  []byte
	pos int

	buf   []byte // the current logical line, continuations joined
	src   []int  // input offset of each byte of buf, for error lines
	start int    // input offset where the current logical line's text begins
}

// next reads the next logical line into buf and reports whether there was one.
// The control flow mirrors LineReader.readLine statement by statement, since
// its quirks (which lines count as comments, what happens to a backslash at
// EOF) are exactly what a faithful parser has to reproduce.
func (s *scanner) next() bool {
	s.buf, s.src = s.buf[:0], s.src[:0]
	skipSpace, appendedLineBegin, backslash := true, false, false
	for s.pos < len(s.in) {
		c := s.in[s.pos]
		s.pos++
		if skipSpace {
			if isSpace(c) {
				continue
			}
			if !appendedLineBegin && (c == '\r' || c == '\n') {
				continue
			}
			skipSpace, appendedLineBegin = false, false
		}
		// Java tests for a comment whenever the line buffer is empty, so
		// a comment can also follow a continuation of an empty line.
		if len(s.buf) == 0 && (c == '#' || c == '!') {
			for s.pos < len(s.in) && s.in[s.pos] != '\n' && s.in[s.pos] != '\r' {
				s.pos++
			}
			skipSpace = true
			continue
		}
		if c != '\n' && c != '\r' {
			if len(s.buf) == 0 {
				s.start = s.pos - 1
			}
			s.buf = append(s.buf, c)
			s.src = append(s.src, s.pos-1)
			backslash = c == '\\' && !backslash
			continue
		}
		if len(s.buf) == 0 {
			skipSpace = true
			continue
		}
		// Java checks for EOF after consuming only the '\r' of a "\r\n",
		// so "\\\n" at EOF yields an empty property and "\\\r\n" none.
		if s.pos >= len(s.in) || !backslash {
			break
		}
		s.buf, s.src = s.buf[:len(s.buf)-1], s.src[:len(s.src)-1]
		skipSpace, appendedLineBegin, backslash = true, true, false
		if c == '\r' && s.in[s.pos] == '\n' {
			s.pos++
		}
	}
	if len(s.buf) == 0 {
		return false
	}
	if backslash {
		s.buf, s.src = s.buf[:len(s.buf)-1], s.src[:len(s.src)-1]
	}
	return true
}

// split finds the end of the key and the start of the value in a logical
// line, as Properties.load0 does.
func split(line []byte) (keyEnd, valStart int) {
	valStart = len(line)
	hasSep, backslash := false, false
	for ; keyEnd < len(line); keyEnd++ {
		c := line[keyEnd]
		if !backslash && (c == '=' || c == ':') {
			valStart, hasSep = keyEnd+1, true
			break
		}
		if !backslash && isSpace(c) {
			valStart = keyEnd + 1
			break
		}
		backslash = c == '\\' && !backslash
	}
	for ; valStart < len(line); valStart++ {
		c := line[valStart]
		if isSpace(c) {
			continue
		}
		if hasSep || (c != '=' && c != ':') {
			break
		}
		hasSep = true
	}
	return keyEnd, valStart
}

// unescape resolves backslash escapes. On a malformed \u escape it returns
// the offset of its backslash; otherwise bad is -1.
func unescape(b []byte) (s string, bad int) {
	if bytes.IndexByte(b, '\\') < 0 {
		return string(b), -1
	}
	var out strings.Builder
	out.Grow(len(b))
	// A \u escape yields one UTF-16 unit; a high surrogate waits here for
	// the low surrogate that may follow it.
	high := rune(-1)
	flush := func() {
		if high >= 0 {
			out.WriteRune(utf8.RuneError)
			high = -1
		}
	}
	// The scanner never leaves an unpaired backslash at the end of a key
	// or value, so a backslash always has a successor here.
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			flush()
			out.WriteByte(c)
			continue
		}
		i++
		if b[i] != 'u' {
			flush()
			out.WriteByte(unescapeChar(b[i]))
			continue
		}
		u, ok := hex4(b[i+1:])
		if !ok {
			return "", i - 1
		}
		i += 4
		switch {
		case high >= 0 && utf16.IsSurrogate(u) && u >= 0xDC00:
			out.WriteRune(utf16.DecodeRune(high, u))
			high = -1
		case utf16.IsSurrogate(u) && u < 0xDC00:
			flush()
			high = u
		default:
			flush()
			out.WriteRune(u) // a lone low surrogate is written as U+FFFD
		}
	}
	flush()
	return out.String(), -1
}

func unescapeChar(c byte) byte {
	switch c {
	case 't':
		return '\t'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 'f':
		return '\f'
	}
	return c
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// Write writes all properties as key=value lines in key order, escaped as
// Java's Properties.store(OutputStream) escapes them, so the output is
// ASCII and loads back to the same map in Java and in Parse. Unlike store,
// it writes no timestamp comment, which keeps the output reproducible.
func (p *Properties) Write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, k := range p.keys {
		bw.WriteString(escape(k, true))
		bw.WriteByte('=')
		bw.WriteString(escape(p.entries[k].value, false))
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write properties: %w", err)
	}
	return nil
}

// escape mirrors Properties.saveConvert with escapeUnicode set. Keys escape
// every space; values escape only a leading one, which is all load needs
// to keep it.
func escape(s string, isKey bool) string {
	var out strings.Builder
	for i, r := range s {
		switch {
		case r == '\\':
			out.WriteString(`\\`)
		case r > '=' && r < 0x7F:
			out.WriteRune(r)
		case r == ' ':
			if i == 0 || isKey {
				out.WriteByte('\\')
			}
			out.WriteByte(' ')
		case r == '\t':
			out.WriteString(`\t`)
		case r == '\n':
			out.WriteString(`\n`)
		case r == '\r':
			out.WriteString(`\r`)
		case r == '\f':
			out.WriteString(`\f`)
		case r == '=' || r == ':' || r == '#' || r == '!':
			out.WriteByte('\\')
			out.WriteRune(r)
		case r < 0x20 || r > 0x7E:
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				fmt.Fprintf(&out, `\u%04X\u%04X`, r1, r2)
			} else {
				fmt.Fprintf(&out, `\u%04X`, r)
			}
		default:
			out.WriteRune(r)
		}
	}
	return out.String()
}
