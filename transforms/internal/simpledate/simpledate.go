// Package simpledate formats and parses times with java.text.SimpleDateFormat patterns, in UTC
// and the English names of the JVM's default locale, as TimestampConverter and TimestampRouter use
// them. Parsing is lenient, as SimpleDateFormat's is by default: out-of-range fields roll over
// (month 13 is January of the next year) and text after the last field is ignored.
package simpledate

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// item is one element of a pattern: a run of one pattern letter, or literal text.
type item struct {
	letter  byte // 0 for literal text
	count   int
	literal string
}

// Format is a compiled pattern.
type Format struct {
	pattern string
	items   []item
	// now is the reference for two-digit years (within 80 years before, 20 after); tests fix it.
	now func() time.Time
}

const letters = "GyYMLwWDdFEuaHkKhmsSzZX"

// Compile compiles a SimpleDateFormat pattern, failing as its constructor would: an unknown
// pattern letter or an unterminated quote.
func Compile(pattern string) (*Format, error) {
	f := &Format{pattern: pattern, now: time.Now}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.items = append(f.items, item{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\'':
			if i+1 < len(pattern) && pattern[i+1] == '\'' {
				lit.WriteByte('\'')
				i++
				continue
			}
			end := i + 1
			for {
				if end >= len(pattern) {
					return nil, fmt.Errorf("Unterminated quote")
				}
				if pattern[end] == '\'' {
					if end+1 < len(pattern) && pattern[end+1] == '\'' {
						lit.WriteByte('\'')
						end += 2
						continue
					}
					break
				}
				lit.WriteByte(pattern[end])
				end++
			}
			i = end
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune(letters, rune(c)) {
				return nil, fmt.Errorf("Illegal pattern character '%c'", c)
			}
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			if c == 'X' && n > 3 {
				return nil, fmt.Errorf("invalid ISO 8601 format: length=%d", n)
			}
			flush()
			f.items = append(f.items, item{letter: c, count: n})
			i += n - 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return f, nil
}

// Pattern returns the pattern as written.
func (f *Format) Pattern() string { return f.pattern }

var (
	monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	dayNames   = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
)

// Format renders t in UTC.
func (f *Format) Format(t time.Time) string {
	t = t.UTC()
	var b []byte
	for _, it := range f.items {
		if it.letter == 0 {
			b = append(b, it.literal...)
			continue
		}
		b = appendField(b, t, it)
	}
	return string(b)
}

func pad(b []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func appendField(b []byte, t time.Time, it item) []byte {
	n := it.count
	switch it.letter {
	case 'G':
		if t.Year() <= 0 {
			return append(b, "BC"...)
		}
		return append(b, "AD"...)
	case 'y', 'Y':
		y := t.Year()
		if y <= 0 {
			y = 1 - y
		}
		if n == 2 {
			return pad(b, y%100, 2)
		}
		return pad(b, y, n)
	case 'M', 'L':
		switch {
		case n >= 4:
			return append(b, monthNames[t.Month()-1]...)
		case n == 3:
			return append(b, monthNames[t.Month()-1][:3]...)
		}
		return pad(b, int(t.Month()), n)
	case 'w':
		return pad(b, weekOfYear(t), n)
	case 'W':
		return pad(b, weekOfMonth(t), n)
	case 'D':
		return pad(b, t.YearDay(), n)
	case 'd':
		return pad(b, t.Day(), n)
	case 'F':
		return pad(b, (t.Day()-1)/7+1, n)
	case 'E':
		if n >= 4 {
			return append(b, dayNames[t.Weekday()]...)
		}
		return append(b, dayNames[t.Weekday()][:3]...)
	case 'u':
		wd := int(t.Weekday())
		if wd == 0 {
			wd = 7
		}
		return pad(b, wd, n)
	case 'a':
		if t.Hour() < 12 {
			return append(b, "AM"...)
		}
		return append(b, "PM"...)
	case 'H':
		return pad(b, t.Hour(), n)
	case 'k':
		h := t.Hour()
		if h == 0 {
			h = 24
		}
		return pad(b, h, n)
	case 'K':
		return pad(b, t.Hour()%12, n)
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return pad(b, h, n)
	case 'm':
		return pad(b, t.Minute(), n)
	case 's':
		return pad(b, t.Second(), n)
	case 'S':
		return pad(b, t.Nanosecond()/1e6, n)
	case 'z':
		if n >= 4 {
			return append(b, "Coordinated Universal Time"...)
		}
		return append(b, "UTC"...)
	case 'Z':
		return append(b, "+0000"...)
	case 'X':
		return append(b, 'Z')
	}
	return b
}

// weekOfYear counts weeks as the US locale does: weeks start on Sunday and week 1 is the one
// holding January 1st.
func weekOfYear(t time.Time) int {
	jan1 := time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	w := (t.YearDay()-1+int(jan1.Weekday()))/7 + 1
	// The days of the last week of December that share a week with January 1st are week 1.
	if t.Month() == 12 {
		next := time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
		if t.Day() > 31-int(next.Weekday()) && next.Weekday() != time.Sunday {
			return 1
		}
	}
	return w
}

func weekOfMonth(t time.Time) int {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return (t.Day()-1+int(first.Weekday()))/7 + 1
}

// fields collects what parsing found.
type fields struct {
	year, month, day, yearDay int
	hour, hour12, minute      int
	second, milli             int
	pm, hasHour12, hasPM      bool
	hasYearDay, hasMonthDay   bool
	bc                        bool
	offset                    int // seconds east of UTC
}

// Parse reads s as SimpleDateFormat.parse does in lenient mode, in UTC unless s carries a zone.
func (f *Format) Parse(s string) (time.Time, error) {
	fail := fmt.Errorf("Unparseable date: %q", s)
	fl := fields{year: 1970, month: 1, day: 1}
	pos := 0
	for idx, it := range f.items {
		if it.letter == 0 {
			if !strings.HasPrefix(s[pos:], it.literal) {
				return time.Time{}, fail
			}
			pos += len(it.literal)
			continue
		}
		for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
			pos++
		}
		abutting := idx+1 < len(f.items) && numeric(f.items[idx+1])
		n, err := f.parseField(s, pos, it, abutting, &fl)
		if err != nil || n == 0 {
			return time.Time{}, fail
		}
		pos += n
	}
	hour := fl.hour
	if fl.hasHour12 {
		hour = fl.hour12 % 12
		if fl.pm {
			hour += 12
		}
	} else if fl.hasPM && fl.pm && hour < 12 {
		hour += 12
	}
	year := fl.year
	if fl.bc {
		year = 1 - year
	}
	month, day := fl.month, fl.day
	if fl.hasYearDay && !fl.hasMonthDay {
		month, day = 1, fl.yearDay
	}
	t := time.Date(year, time.Month(month), day, hour, fl.minute, fl.second, fl.milli*1e6, time.UTC)
	return t.Add(-time.Duration(fl.offset) * time.Second), nil
}

func numeric(it item) bool {
	switch it.letter {
	case 'y', 'Y', 'w', 'W', 'D', 'd', 'F', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S':
		return true
	case 'M', 'L':
		return it.count <= 2
	}
	return false
}

// parseField reads one field at s[pos:] into fl and returns how many bytes it took (0: none).
func (f *Format) parseField(s string, pos int, it item, abutting bool, fl *fields) (int, error) {
	rest := s[pos:]
	if numeric(it) {
		neg := false
		start := 0
		if (it.letter == 'y' || it.letter == 'Y') && len(rest) > 0 && (rest[0] == '-' || rest[0] == '+') {
			neg, start = rest[0] == '-', 1
		}
		end := start
		for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' && (!abutting || end-start < it.count) {
			end++
		}
		if end == start {
			return 0, nil
		}
		v, err := strconv.Atoi(rest[start:end])
		if err != nil {
			return 0, err
		}
		if neg {
			v = -v
		}
		f.setNumber(it, v, end-start, fl)
		return end, nil
	}
	switch it.letter {
	case 'M', 'L':
		for i, name := range monthNames {
			if n := matchName(rest, name); n > 0 {
				fl.month, fl.hasMonthDay = i+1, true
				return n, nil
			}
		}
	case 'E':
		for _, name := range dayNames {
			if n := matchName(rest, name); n > 0 {
				return n, nil // the day of the week does not move the date
			}
		}
	case 'a':
		for _, m := range []string{"AM", "PM"} {
			if len(rest) >= 2 && strings.EqualFold(rest[:2], m) {
				fl.hasPM, fl.pm = true, m == "PM"
				return 2, nil
			}
		}
	case 'G':
		for _, e := range []string{"AD", "BC"} {
			if len(rest) >= 2 && strings.EqualFold(rest[:2], e) {
				fl.bc = e == "BC"
				return 2, nil
			}
		}
	case 'z', 'Z', 'X':
		return parseZone(rest, fl)
	}
	return 0, nil
}

func (f *Format) setNumber(it item, v, digits int, fl *fields) {
	switch it.letter {
	case 'y', 'Y':
		fl.year = v
		if it.count <= 2 && digits == 2 {
			fl.year = f.twoDigitYear(v)
		}
	case 'M', 'L':
		fl.month, fl.hasMonthDay = v, true
	case 'd':
		fl.day, fl.hasMonthDay = v, true
	case 'D':
		fl.yearDay, fl.hasYearDay = v, true
	case 'H':
		fl.hour = v
	case 'k':
		fl.hour = v % 24
	case 'K', 'h':
		fl.hour12, fl.hasHour12 = v, true
	case 'm':
		fl.minute = v
	case 's':
		fl.second = v
	case 'S':
		fl.milli = v
	}
}

// twoDigitYear places yy within 80 years before and 20 years after now, as SimpleDateFormat does.
func (f *Format) twoDigitYear(yy int) int {
	start := f.now().UTC().Year() - 80
	y := start/100*100 + yy
	if y < start {
		y += 100
	}
	return y
}

// matchName matches name or its three-letter abbreviation at the start of s, ignoring case.
func matchName(s, name string) int {
	if len(s) >= len(name) && strings.EqualFold(s[:len(name)], name) {
		return len(name)
	}
	if len(s) >= 3 && strings.EqualFold(s[:3], name[:3]) {
		return 3
	}
	return 0
}

// parseZone reads Z, UTC, GMT, an optional GMT prefix and ±hh, ±hhmm or ±hh:mm.
func parseZone(s string, fl *fields) (int, error) {
	n := 0
	switch {
	case strings.HasPrefix(s, "Z"):
		return 1, nil
	case strings.HasPrefix(s, "UTC"):
		n = 3
	case strings.HasPrefix(s, "GMT"):
		n = 3
	}
	rest := s[n:]
	if len(rest) < 3 || (rest[0] != '+' && rest[0] != '-') {
		return n, nil
	}
	sign := 1
	if rest[0] == '-' {
		sign = -1
	}
	digits := func(s string) (int, bool) {
		if len(s) < 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
			return 0, false
		}
		return int(s[0]-'0')*10 + int(s[1]-'0'), true
	}
	h, ok := digits(rest[1:])
	if !ok {
		return n, nil
	}
	used := 3
	m := 0
	if mm, ok := digits(rest[3:]); ok {
		m, used = mm, 5
	} else if len(rest) > 3 && rest[3] == ':' {
		if mm, ok := digits(rest[4:]); ok {
			m, used = mm, 6
		}
	}
	fl.offset = sign * (h*3600 + m*60)
	return n + used, nil
}
