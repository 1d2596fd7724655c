package storage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// Partitioner class names, as storage-common names them.
const (
	partitionerPackage     = "io.confluent.connect.storage.partitioner."
	defaultPartitionerName = partitionerPackage + "DefaultPartitioner"
	fieldPartitionerName   = partitionerPackage + "FieldPartitioner"
	timePartitionerName    = partitionerPackage + "TimeBasedPartitioner"
	dailyPartitionerName   = partitionerPackage + "DailyPartitioner"
	hourlyPartitionerName  = partitionerPackage + "HourlyPartitioner"
)

// partitioner decides the directory of each record below topics.dir.
type partitioner interface {
	// encode returns the record's encoded partition, such as partition=3 or year=2024/month=03.
	encode(rec *connect.SinkRecord) (string, error)
}

// timestampExtractor gives a record's time for time-based partitioning and rotation.
type timestampExtractor func(rec *connect.SinkRecord) (time.Time, error)

type defaultPartitioner struct{}

func (defaultPartitioner) encode(rec *connect.SinkRecord) (string, error) {
	return "partition=" + strconv.Itoa(int(rec.Partition)), nil
}

// fieldPartitioner encodes the values of partition.field.name as name=value directories.
type fieldPartitioner struct {
	fields []string
	delim  string
}

func (p fieldPartitioner) encode(rec *connect.SinkRecord) (string, error) {
	var b strings.Builder
	for i, name := range p.fields {
		v, err := fieldValue(rec.Value, name)
		if err != nil {
			return "", fmt.Errorf("partition.field.name %s: %w", name, err)
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case int8, int16, int32, int64:
			n, _ := connect.IntegerValue(x)
			s = strconv.FormatInt(n, 10)
		case bool:
			s = strconv.FormatBool(x)
		default:
			return "", fmt.Errorf("partition.field.name %s: a %T value cannot name a partition (want a string, integer or boolean)", name, v)
		}
		if i > 0 {
			b.WriteString(p.delim)
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(s)
	}
	return b.String(), nil
}

// fieldValue reads a (dot-separated, possibly nested) field of a struct or map value.
func fieldValue(value any, path string) (any, error) {
	v := value
	for _, name := range strings.Split(path, ".") {
		switch x := v.(type) {
		case *connect.Struct:
			f := x.Schema().Field(name)
			if f == nil {
				return nil, fmt.Errorf("the record value has no field %s", name)
			}
			v = x.GetAt(f.Index)
		case map[string]any:
			var ok bool
			if v, ok = x[name]; !ok {
				return nil, fmt.Errorf("the record value has no field %s", name)
			}
		default:
			return nil, fmt.Errorf("the record value is a %T, not a struct or map", value)
		}
	}
	if v == nil {
		return nil, fmt.Errorf("the field is null")
	}
	return v, nil
}

// timePartitioner buckets records by time (partition.duration.ms) and names the bucket with a
// Joda-Time pattern (path.format) in a time zone.
type timePartitioner struct {
	duration int64
	format   []patternPart
	loc      *time.Location
	extract  timestampExtractor
}

func (p *timePartitioner) encode(rec *connect.SinkRecord) (string, error) {
	ts, err := p.extract(rec)
	if err != nil {
		return "", err
	}
	return p.path(ts), nil
}

// path formats the start of ts's bucket: buckets are aligned in local time, as upstream
// aligns them after converting UTC to the zone's local time.
func (p *timePartitioner) path(ts time.Time) string {
	ms := ts.UnixMilli()
	_, off := ts.In(p.loc).Zone()
	local := ms + int64(off)*1000
	bucket := local - floorMod(local, p.duration)
	start := time.UnixMilli(bucket - int64(off)*1000).In(p.loc)
	return formatPattern(p.format, start)
}

func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// newTimestampExtractor returns the timestamp.extractor: Wallclock, Record or RecordField.
func newTimestampExtractor(kind, field string, now func() time.Time) (timestampExtractor, error) {
	switch kind {
	case "Wallclock":
		return func(*connect.SinkRecord) (time.Time, error) { return now(), nil }, nil
	case "Record":
		return func(rec *connect.SinkRecord) (time.Time, error) {
			if rec.Timestamp.IsZero() {
				return time.Time{}, fmt.Errorf("%s record at offset %d has no timestamp (timestamp.extractor=Record)", rec.Topic, rec.Offset)
			}
			return rec.Timestamp, nil
		}, nil
	case "RecordField":
		return func(rec *connect.SinkRecord) (time.Time, error) {
			v, err := fieldValue(rec.Value, field)
			if err != nil {
				return time.Time{}, fmt.Errorf("timestamp.field %s: %w", field, err)
			}
			switch x := v.(type) {
			case time.Time:
				return x, nil
			case int64:
				return time.UnixMilli(x), nil
			case string:
				t, err := time.Parse(time.RFC3339Nano, x)
				if err != nil {
					return time.Time{}, fmt.Errorf("timestamp.field %s: %q is not an ISO 8601 timestamp", field, x)
				}
				return t, nil
			}
			return time.Time{}, fmt.Errorf("timestamp.field %s: a %T value is not a timestamp (want Timestamp, int64 milliseconds or an ISO 8601 string)", field, v)
		}, nil
	}
	return nil, fmt.Errorf("unknown timestamp extractor %q", kind)
}

// patternPart is a literal or one Joda-Time field letter repeated width times.
type patternPart struct {
	literal string
	letter  byte
	width   int
}

// parseJodaPattern parses the subset of Joda-Time's DateTimeFormat that names directories:
// quoted literals, y/Y (year), M (month, MMM and MMMM as English names), d, H, h, m, s, S, D
// (day of year), E (English day name), a (AM/PM), w (ISO week), x (week year) and Z (offset).
func parseJodaPattern(p string) ([]patternPart, error) {
	var parts []patternPart
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("unterminated quote in %q", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(p[j])
				j++
			}
			if j == i+1 {
				lit.WriteByte('\'')
			}
			parts = append(parts, patternPart{literal: lit.String()})
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			if !strings.ContainsRune("yYMdHhmsSDEawxZ", rune(c)) {
				return nil, fmt.Errorf("pattern letter %q in %q is not supported", c, p)
			}
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			parts = append(parts, patternPart{letter: c, width: j - i})
			i = j
		default:
			parts = append(parts, patternPart{literal: string(c)})
			i++
		}
	}
	return parts, nil
}

// hasTextField reports whether a pattern prints names (months, days, AM/PM), which depend on
// the locale.
func hasTextField(parts []patternPart) bool {
	for _, p := range parts {
		if p.letter == 'E' || p.letter == 'a' || (p.letter == 'M' && p.width >= 3) {
			return true
		}
	}
	return false
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func formatPattern(parts []patternPart, t time.Time) string {
	var b strings.Builder
	for _, p := range parts {
		if p.letter == 0 {
			b.WriteString(p.literal)
			continue
		}
		switch p.letter {
		case 'y', 'Y':
			if p.width == 2 {
				b.WriteString(pad(t.Year()%100, 2))
			} else {
				b.WriteString(pad(t.Year(), p.width))
			}
		case 'x':
			y, _ := t.ISOWeek()
			b.WriteString(pad(y, p.width))
		case 'w':
			_, w := t.ISOWeek()
			b.WriteString(pad(w, p.width))
		case 'M':
			switch {
			case p.width >= 4:
				b.WriteString(t.Month().String())
			case p.width == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				b.WriteString(pad(int(t.Month()), p.width))
			}
		case 'd':
			b.WriteString(pad(t.Day(), p.width))
		case 'D':
			b.WriteString(pad(t.YearDay(), p.width))
		case 'H':
			b.WriteString(pad(t.Hour(), p.width))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			b.WriteString(pad(h, p.width))
		case 'm':
			b.WriteString(pad(t.Minute(), p.width))
		case 's':
			b.WriteString(pad(t.Second(), p.width))
		case 'S':
			b.WriteString(pad(t.Nanosecond()/1e6, 3)[:min(p.width, 3)])
		case 'E':
			if p.width >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'Z':
			if p.width == 1 {
				b.WriteString(t.Format("-0700"))
			} else {
				b.WriteString(t.Format("-07:00"))
			}
		}
	}
	return b.String()
}
