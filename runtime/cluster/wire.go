package cluster

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
)

// connectorTask is the task number that stands for the connector itself in an assignment entry.
const connectorTask = -1

// errShort reports a field cut off by the end of the buffer.
var errShort = errors.New("not enough data")

// decoder reads the fields of one structure and remembers the first field that failed, so that
// an error names what was being read rather than only that the data ran out.
type decoder struct {
	r   kbin.Reader
	err error
}

func newDecoder(b []byte) *decoder { return &decoder{r: kbin.Reader{Src: b}} }

// fail records err for field unless an earlier field already failed.
func (d *decoder) fail(field string, err error) {
	if d.err == nil {
		d.err = fmt.Errorf("field %s: %w", field, err)
	}
}

// check records a short read of field.
func (d *decoder) check(field string) {
	if !d.r.Ok() {
		d.fail(field, errShort)
	}
}

// more reports whether the buffer holds anything after the fields read so far; upstream's
// version 1 schemas give trailing fields defaults so that shorter (older) encodings still decode.
func (d *decoder) more() bool { return d.err == nil && len(d.r.Src) > 0 }

func (d *decoder) int16(field string) int16 {
	v := d.r.Int16()
	d.check(field)
	return v
}

func (d *decoder) int32(field string) int32 {
	v := d.r.Int32()
	d.check(field)
	return v
}

func (d *decoder) int64(field string) int64 {
	v := d.r.Int64()
	d.check(field)
	return v
}

// string reads a non-nullable Kafka STRING (int16 length, UTF-8 bytes).
func (d *decoder) string(field string) string {
	n := d.int16(field)
	if d.err != nil {
		return ""
	}
	if n < 0 {
		d.fail(field, fmt.Errorf("negative string length %d", n))
		return ""
	}
	s := d.r.Span(int(n))
	d.check(field)
	return string(s)
}

// nullableBytes reads Kafka NULLABLE_BYTES (int32 length, -1 for null).
func (d *decoder) nullableBytes(field string) []byte {
	n := d.int32(field)
	if d.err != nil || n < 0 {
		return nil
	}
	b := d.r.Span(int(n))
	d.check(field)
	return b
}

// arrayLen reads an array's int32 element count; -1 (null) is allowed only when nullable.
func (d *decoder) arrayLen(field string, nullable bool) int {
	n := d.r.ArrayLen()
	d.check(field)
	if d.err == nil && n < 0 && !(nullable && n == -1) {
		d.fail(field, fmt.Errorf("invalid array length %d", n))
	}
	if d.err != nil || n < 0 {
		return 0
	}
	return int(n)
}
