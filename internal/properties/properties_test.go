package properties

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

type kv struct{ k, v string }

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []kv // in order of first appearance
	}{
		{"empty input", "", nil},
		{"only blank lines", "\n\n  \t\f\n\r\n", nil},

		// Separators.
		{"equals", "a=b", []kv{{"a", "b"}}},
		{"colon", "a:b", []kv{{"a", "b"}}},
		{"space", "a b", []kv{{"a", "b"}}},
		{"tab", "a\tb", []kv{{"a", "b"}}},
		{"form feed", "a\fb", []kv{{"a", "b"}}},
		{"whitespace around equals", "a \t = \f b", []kv{{"a", "b"}}},
		{"whitespace around colon", "a   :   b", []kv{{"a", "b"}}},
		{"many spaces", "a     b", []kv{{"a", "b"}}},
		{"only the first separator counts", "a=b=c:d e", []kv{{"a", "b=c:d e"}}},
		{"second equals after space separator", "a = = b", []kv{{"a", "= b"}}},
		{"double equals", "a==b", []kv{{"a", "=b"}}},
		{"colon after space separator", "a :b", []kv{{"a", "b"}}},
		{"equals in value after space separator", "a b=c", []kv{{"a", "b=c"}}},
		{"empty key", "=v", []kv{{"", "v"}}},
		{"empty key with colon", ":v", []kv{{"", "v"}}},

		// Keys without values.
		{"key only", "key", []kv{{"key", ""}}},
		{"key and trailing spaces", "key   ", []kv{{"key", ""}}},
		{"key and separator", "key=", []kv{{"key", ""}}},
		{"key, separator and spaces", "key =  ", []kv{{"key", ""}}},

		// Whitespace.
		{"leading whitespace dropped", " \t\fa=b", []kv{{"a", "b"}}},
		{"trailing whitespace kept", "a=b  \t", []kv{{"a", "b  \t"}}},
		{"inner whitespace kept", "a=b  c", []kv{{"a", "b  c"}}},

		// Comments.
		{"hash comment", "# a=b\nc=d", []kv{{"c", "d"}}},
		{"bang comment", "! a=b\nc=d", []kv{{"c", "d"}}},
		{"indented comment", "  \t# a=b\nc=d", []kv{{"c", "d"}}},
		{"hash inside value", "a=b # c", []kv{{"a", "b # c"}}},
		{"hash starting value", "a=#b", []kv{{"a", "#b"}}},
		{"hash inside key", "a#b=c", []kv{{"a#b", "c"}}},
		{"comment does not continue", "# c \\\na=b", []kv{{"a", "b"}}},
		{"comment at EOF", "a=b\n# c", []kv{{"a", "b"}}},
		{"comment ends with CR", "# c\rd=e", []kv{{"d", "e"}}},

		// Line ends.
		{"LF", "a=1\nb=2\n", []kv{{"a", "1"}, {"b", "2"}}},
		{"CRLF", "a=1\r\nb=2\r\n", []kv{{"a", "1"}, {"b", "2"}}},
		{"CR", "a=1\rb=2\r", []kv{{"a", "1"}, {"b", "2"}}},
		{"mixed", "a=1\r\nb=2\rc=3\n", []kv{{"a", "1"}, {"b", "2"}, {"c", "3"}}},
		{"blank lines between", "a=1\n\n\r\n  \nb=2", []kv{{"a", "1"}, {"b", "2"}}},

		// Continuations.
		{"continuation", "a=b\\\n   c", []kv{{"a", "bc"}}},
		{"continuation keeps trailing space", "a=b \\\n  c", []kv{{"a", "b c"}}},
		{"continuation CRLF", "a=1\\\r\n  2\r\nb=3", []kv{{"a", "12"}, {"b", "3"}}},
		{"continuation CR", "a=1\\\r  2\rb=3", []kv{{"a", "12"}, {"b", "3"}}},
		{"multiple continuations", "a=1\\\n 2\\\n\t3", []kv{{"a", "123"}}},
		{"continuation inside key", "ke\\\n  y=v", []kv{{"key", "v"}}},
		{"continuation before separator", "key\\\n  =v", []kv{{"key", "v"}}},
		{"two backslashes do not continue", "a=b\\\\\nc=d", []kv{{"a", `b\`}, {"c", "d"}}},
		{"three backslashes continue", "a=b\\\\\\\n c", []kv{{"a", `b\c`}}},
		{"continued line starting with hash", "a=b\\\n#c", []kv{{"a", "b#c"}}},
		{"continuation then blank line", "a=x\\\n\nb=y", []kv{{"a", "x"}, {"b", "y"}}},
		{"continuation then whitespace at EOF", "a=b\\\n   ", []kv{{"a", "b"}}},
		{"continuation at EOF", "a=b\\\n", []kv{{"a", "b"}}},
		{"backslash at EOF", "a=b\\", []kv{{"a", "b"}}},
		{"backslash only", "\\", []kv{{"", ""}}},
		{"backslash LF at EOF", "\\\n", []kv{{"", ""}}},
		// Java checks for EOF before skipping the LF of a CRLF.
		{"backslash CRLF at EOF", "\\\r\n", nil},
		// Java treats a line as a comment whenever nothing is buffered
		// yet, even after a continuation of an empty line.
		{"comment after empty continuation", "\\\n# c\nx=y", []kv{{"x", "y"}}},
		{"key after empty continuation", "\\\n  x=y", []kv{{"x", "y"}}},

		// Escapes.
		{"control escapes", `a=\t\n\r\f\\`, []kv{{"a", "\t\n\r\f\\"}}},
		{"unicode escapes", `\u0041\u00e9=\u20AC\u20ac`, []kv{{"Aé", "€€"}}},
		{"any other escaped char is itself", `a=\q\=\:\ \#\!\"`, []kv{{"a", `q=: #!"`}}},
		{"escaped non-ASCII", `a=\é`, []kv{{"a", "é"}}},
		{"escape split by continuation", "a=\\u00\\\n  41", []kv{{"a", "A"}}},
		{"escaped equals in key", `a\=b=c`, []kv{{"a=b", "c"}}},
		{"escaped colon in key", `a\:b:c`, []kv{{"a:b", "c"}}},
		{"escaped space in key", `a\ b c`, []kv{{"a b", "c"}}},
		{"escaped tab in key", "a\\\tb=c", []kv{{"a\tb", "c"}}},
		{"escaped backslash before separator", `a\\=b`, []kv{{`a\`, "b"}}},
		{"escaped leading space in value", `a=\ b`, []kv{{"a", " b"}}},
		{"escaped hash starts a key", `\#a=b`, []kv{{"#a", "b"}}},
		{"surrogate pair", `a=\uD83D\uDE00`, []kv{{"a", "😀"}}},
		{"lone high surrogate", `a=\uD83Dx`, []kv{{"a", "\uFFFDx"}}},
		{"lone low surrogate", `a=\uDE00`, []kv{{"a", "\uFFFD"}}},
		{"two high surrogates", `a=\uD83D\uD83D\uDE00`, []kv{{"a", "\uFFFD😀"}}},
		{"UTF-8 text", "ключ=значение ☃", []kv{{"ключ", "значение ☃"}}},
		{"NUL byte", "a=\x00", []kv{{"a", "\x00"}}},

		// Repeated keys.
		{"last definition wins", "a=1\nb=2\na=3", []kv{{"a", "3"}, {"b", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(strings.NewReader(tt.in), "test.properties")
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			var got []kv
			for _, k := range p.Keys() {
				v, ok := p.Get(k)
				if !ok {
					t.Fatalf("Keys() lists %q but Get does not find it", k)
				}
				got = append(got, kv{k, v})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) =\n%q\nwant\n%q", tt.in, got, tt.want)
			}
			if len(p.Map()) != len(tt.want) {
				t.Errorf("Map() has %d entries, want %d", len(p.Map()), len(tt.want))
			}
		})
	}
}

func TestLine(t *testing.T) {
	in := "a=1\n\n# c\r\nb=2\\\n  3\rc\\\n=4\na=5\n"
	p, err := Parse(strings.NewReader(in), "x")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{"a": 8, "b": 4, "c": 6, "missing": 0} {
		if got := p.Line(key); got != want {
			t.Errorf("Line(%q) = %d, want %d", key, got, want)
		}
	}
	if _, ok := p.Get("missing"); ok {
		t.Error(`Get("missing") reported a value`)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Error
	}{
		{"short escape in value", `a=\u12`, Error{Line: 1, Key: "a", Msg: msgMalformedU}},
		{"non-hex escape in value", "x=1\ny=\\u00g1", Error{Line: 2, Key: "y", Msg: msgMalformedU}},
		{"escape in key", `\uXYZW=1`, Error{Line: 1, Msg: msgMalformedU}},
		{"escape on continued line", "a=1\nb=ok\\\n  \\u0\\\n 0g", Error{Line: 3, Key: "b", Msg: msgMalformedU}},
		{"escape cut by EOF", `a=\u`, Error{Line: 1, Key: "a", Msg: msgMalformedU}},
		{"invalid UTF-8", "a=1\r\nb=\xe9", Error{Line: 2, Msg: `invalid UTF-8 (write other encodings' characters as \uXXXX escapes)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.in), "w.properties")
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error = %v, want *Error", tt.in, err)
			}
			tt.want.File = "w.properties"
			if *perr != tt.want {
				t.Errorf("Parse(%q) error = %+v, want %+v", tt.in, *perr, tt.want)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "worker.properties", Line: 12, Key: "foo", Msg: msgMalformedU},
			`worker.properties:12: key "foo": malformed \uxxxx encoding`},
		{Error{File: "worker.properties", Line: 3, Msg: msgMalformedU},
			`worker.properties:3: malformed \uxxxx encoding`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(path, []byte("bootstrap.servers=embedded\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Get("bootstrap.servers"); v != "embedded" {
		t.Errorf("bootstrap.servers = %q, want embedded", v)
	}

	if err := os.WriteFile(path, []byte("a=\\u"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFile(path); err == nil || !strings.HasPrefix(err.Error(), path+":1: ") {
		t.Errorf("ParseFile error = %v, want it to start with %q", err, path+":1: ")
	}

	if _, err := ParseFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ParseFile(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestWrite(t *testing.T) {
	// The expected text is what Java's store(OutputStream) writes for these
	// entries, minus its timestamp comment.
	in := "" +
		"\\ a\\:b\\=c\\#d\\!e\\\\f=\\  two  spaces\n" +
		"tabs\\t=\\t\\r\\n\\f\n" +
		"unicode=\\u00e9\\u20ac\\uD83D\\uDE00\\u0001\\u007f~\n" +
		"empty=\n" +
		"plain=a-b_c.d/e?f@g[h]i{j}k|l<m>n\"o'p(q)r*s+t,u;v\n"
	want := "" +
		"\\ a\\:b\\=c\\#d\\!e\\\\f=\\  two  spaces\n" +
		"tabs\\t=\\t\\r\\n\\f\n" +
		"unicode=\\u00E9\\u20AC\\uD83D\\uDE00\\u0001\\u007F~\n" +
		"empty=\n" +
		"plain=a-b_c.d/e?f@g[h]i{j}k|l<m>n\"o'p(q)r*s+t,u;v\n"
	p, err := Parse(strings.NewReader(in), "in")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.Write(&out); err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Errorf("Write =\n%s\nwant\n%s", out.String(), want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteError(t *testing.T) {
	p, err := Parse(strings.NewReader("a=b"), "in")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(failWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Write error = %v, want it to wrap the writer's error", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, in string) {
		p, err := Parse(strings.NewReader(in), "fuzz")
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("Parse error %v is not a *Error", err)
			}
			return
		}
		keys := p.Keys()
		if len(keys) != len(p.Map()) {
			t.Fatalf("%d keys but %d map entries", len(keys), len(p.Map()))
		}
		for _, k := range keys {
			if p.Line(k) < 1 {
				t.Fatalf("Line(%q) = %d", k, p.Line(k))
			}
		}

		var out bytes.Buffer
		if err := p.Write(&out); err != nil {
			t.Fatal(err)
		}
		for _, c := range out.Bytes() {
			if c >= 0x80 {
				t.Fatalf("Write produced non-ASCII output %q", out.String())
			}
		}
		again, err := Parse(&out, "rewritten")
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out.String(), err)
		}
		if !reflect.DeepEqual(again.Map(), p.Map()) {
			t.Fatalf("round trip changed the map:\n in: %q\nout: %q\n%q\n%q", in, out.String(), p.Map(), again.Map())
		}
		if !reflect.DeepEqual(again.Keys(), keys) {
			t.Fatalf("round trip changed the key order: %q vs %q", again.Keys(), keys)
		}
	})
}
