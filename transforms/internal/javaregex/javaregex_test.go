package javaregex

import "testing"

func TestReplaceFirstFollowsJavaSyntax(t *testing.T) {
	cases := []struct{ expr, repl, in, want string }{
		// Confluent's documented RegexRouter example.
		{`([^.]+)\.([^.]+)\.([^.]+)`, "$3", "dbserver1.inventory.customers", "customers"},
		{`(.*)`, "prefix-$1", "orders", "prefix-orders"},
		// $10 is group 1 followed by "0" when there is no group 10, as in Java.
		{`(a)(b)`, "$10", "ab", "a0"},
		{`(?<t>.*)-raw`, "${t}-clean", "orders-raw", "orders-clean"},
		{`(.*)`, `\$1`, "x", "$1"},
		// A group that did not participate is empty.
		{`(a)|(b)`, "[$1$2]", "b", "[b]"},
	}
	for _, c := range cases {
		p, err := Compile(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.ParseReplacement(c.repl)
		if err != nil {
			t.Fatalf("%q: %v", c.repl, err)
		}
		if got := p.ReplaceFirst(c.in, r); got != c.want {
			t.Errorf("%q/%q on %q = %q, want %q", c.expr, c.repl, c.in, got, c.want)
		}
	}
}

func TestReplacementErrors(t *testing.T) {
	p, _ := Compile(`(a)`)
	for repl, want := range map[string]string{
		`x\`:    "character to be escaped is missing",
		`x$`:    "Illegal group reference: group index is missing",
		`$2`:    "No group 2",
		`${n}`:  "No group with name {n}",
		`$x`:    "Illegal group reference",
		`${n`:   "named capturing group is missing trailing '}'",
		`${}-x`: "named capturing group has 0 length name",
	} {
		if _, err := p.ParseReplacement(repl); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %q", repl, err, want)
		}
	}
}

func TestMatchesIsWholeInput(t *testing.T) {
	p, _ := Compile(`db\.public\..*`)
	if !p.Matches("db.public.orders") || p.Matches("x.db.public.orders") {
		t.Error("Matches must anchor at both ends")
	}
	if _, err := Compile(`(?=a)`); err == nil {
		t.Error("lookahead compiled; RE2 cannot run it and must say so")
	}
}
