package simpledate

import (
	"testing"
	"time"
)

// The examples of SimpleDateFormat's documentation, for 2001-07-04 12:08:56.235 in UTC.
func TestFormatDocumentedExamples(t *testing.T) {
	at := time.Date(2001, 7, 4, 12, 8, 56, 235e6, time.UTC)
	for pattern, want := range map[string]string{
		"yyyy.MM.dd G 'at' HH:mm:ss z":   "2001.07.04 AD at 12:08:56 UTC",
		"EEE, MMM d, ''yy":               "Wed, Jul 4, '01",
		"h:mm a":                         "12:08 PM",
		"hh 'o''clock' a, zzzz":          "12 o'clock PM, Coordinated Universal Time",
		"K:mm a, z":                      "0:08 PM, UTC",
		"yyyyy.MMMMM.dd GGG hh:mm aaa":   "02001.July.04 AD 12:08 PM",
		"EEE, d MMM yyyy HH:mm:ss Z":     "Wed, 4 Jul 2001 12:08:56 +0000",
		"yyMMddHHmmssZ":                  "010704120856+0000",
		"yyyy-MM-dd'T'HH:mm:ss.SSSZ":     "2001-07-04T12:08:56.235+0000",
		"yyyy-MM-dd'T'HH:mm:ss.SSSXXX":   "2001-07-04T12:08:56.235Z",
		"YYYY-'W'ww-u":                   "2001-W27-3",
		"yyyyMMdd":                       "20010704",
		"D F k S SSSSSS":                 "185 1 12 235 000235",
		"'literal with ''quote'' and' M": "literal with 'quote' and 7",
	} {
		f, err := Compile(pattern)
		if err != nil {
			t.Fatalf("%s: %v", pattern, err)
		}
		if got := f.Format(at); got != want {
			t.Errorf("%s: %q, want %q", pattern, got, want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	for pattern, want := range map[string]string{
		"yyyy-MM-dd'T": "Unterminated quote",
		"yyyy-qq":      "Illegal pattern character 'q'",
		"XXXX":         "invalid ISO 8601 format: length=4",
	} {
		if _, err := Compile(pattern); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", pattern, err, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct{ pattern, in, want string }{
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2001-07-04T12:08:56.235+0000", "2001-07-04T12:08:56.235Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2001-07-04T14:08:56.235+0200", "2001-07-04T12:08:56.235Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2001-07-04T12:08:56.235-05:30", "2001-07-04T17:38:56.235Z"},
		{"yyyyMMdd", "20010704", "2001-07-04T00:00:00Z"},
		{"yyyy-MM-dd", "2001-7-4", "2001-07-04T00:00:00Z"},
		// Lenient: month 13 rolls into the next year; trailing text is ignored.
		{"yyyy-MM-dd", "2001-13-01 and more", "2002-01-01T00:00:00Z"},
		{"dd MMM yyyy hh:mm a", "04 jul 2001 12:08 pm", "2001-07-04T12:08:00Z"},
		{"dd MMMM yyyy hh:mm a", "04 July 2001 12:08 AM", "2001-07-04T00:08:00Z"},
		{"EEE, d MMM yyyy HH:mm:ss z", "Wed, 4 Jul 2001 12:08:56 UTC", "2001-07-04T12:08:56Z"},
		{"HH:mm:ss", "12:08:56", "1970-01-01T12:08:56Z"},
		{"yy-MM-dd", "01-07-04", "2001-07-04T00:00:00Z"},
		{"yy-MM-dd", "99-07-04", "1999-07-04T00:00:00Z"},
	} {
		f, err := Compile(c.pattern)
		if err != nil {
			t.Fatal(err)
		}
		f.now = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
		got, err := f.Parse(c.in)
		if err != nil {
			t.Errorf("%s %q: %v", c.pattern, c.in, err)
			continue
		}
		if s := got.Format("2006-01-02T15:04:05.999Z07:00"); s != c.want {
			t.Errorf("%s %q = %s, want %s", c.pattern, c.in, s, c.want)
		}
	}
	f, _ := Compile("yyyy-MM-dd")
	if _, err := f.Parse("July 4th"); err == nil || err.Error() != `Unparseable date: "July 4th"` {
		t.Errorf("error %v", err)
	}
}
