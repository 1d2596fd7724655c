// Package javaser reads and writes the one Java object serialization shape that Kafka Connect's
// FileOffsetBackingStore keeps its standalone offsets in: a java.util.HashMap whose keys and
// values are byte arrays (byte[]) or null. It follows the Java Object Serialization Stream
// Protocol (stream version 5) for exactly that shape and rejects anything else with an error
// naming what it found, so a file of another kind is never mistaken for empty offsets.
package javaser

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Entry is one key/value pair of the map; a nil slice stands for Java's null.
type Entry struct {
	Key, Value []byte
}

// Magic is the two bytes every Java serialization stream starts with.
var Magic = []byte{0xAC, 0xED}

// Stream grammar tokens and constants of the Java Object Serialization Stream Protocol.
const (
	streamVersion = 5

	tcNull          = 0x70
	tcReference     = 0x71
	tcClassDesc     = 0x72
	tcObject        = 0x73
	tcString        = 0x74
	tcArray         = 0x75
	tcBlockData     = 0x77
	tcEndBlockData  = 0x78
	tcBlockDataLong = 0x7A

	baseWireHandle = 0x7E0000

	scWriteMethod  = 0x01
	scSerializable = 0x02

	hashMapClass = "java.util.HashMap"
	hashMapUID   = 0x0507DAC1C31660D1 // HashMap's serialVersionUID
	byteArrClass = "[B"
	byteArrUID   = 0xACF317F8060854E0 // byte[]'s serialVersionUID as the JDK computes it
)

// IsStream reports whether data starts with the Java serialization stream magic.
func IsStream(data []byte) bool { return bytes.HasPrefix(data, Magic) }

// classDesc is the part of a class descriptor this package needs.
type classDesc struct {
	name   string
	flags  byte
	fields []byte // type codes, in stream order
}

type decoder struct {
	buf     []byte
	pos     int
	handles []any // *classDesc, []byte, string or hashMapMarker, by handle - baseWireHandle
}

type hashMapMarker struct{}

// DecodeByteArrayMap decodes a stream holding one HashMap<byte[], byte[]>, returning its
// entries in stream order.
func DecodeByteArrayMap(data []byte) ([]Entry, error) {
	if !IsStream(data) {
		return nil, fmt.Errorf("not a Java serialization stream: starts with %.2x, want aced", data[:min(2, len(data))])
	}
	d := &decoder{buf: data, pos: 2}
	if version, err := d.u16(); err != nil {
		return nil, err
	} else if version != streamVersion {
		return nil, fmt.Errorf("Java serialization stream version %d, want %d", version, streamVersion)
	}
	entries, err := d.hashMap()
	if err != nil {
		return nil, fmt.Errorf("at byte %d: %w", d.pos, err)
	}
	if d.pos != len(d.buf) {
		return nil, fmt.Errorf("at byte %d: %d bytes after the map", d.pos, len(d.buf)-d.pos)
	}
	return entries, nil
}

func (d *decoder) need(n int) ([]byte, error) {
	if n < 0 || len(d.buf)-d.pos < n {
		return nil, fmt.Errorf("stream truncated: need %d bytes, have %d", n, len(d.buf)-d.pos)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) u8() (byte, error) {
	b, err := d.need(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) u16() (uint16, error) {
	b, err := d.need(2)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b), nil
}

func (d *decoder) i32() (int32, error) {
	b, err := d.need(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// utf reads a string in Java's modified UTF-8 with a 16-bit length; class and field names are
// ASCII in the shape accepted here, so the bytes are taken as they are.
func (d *decoder) utf() (string, error) {
	n, err := d.u16()
	if err != nil {
		return "", err
	}
	b, err := d.need(int(n))
	return string(b), err
}

func (d *decoder) newHandle(v any) { d.handles = append(d.handles, v) }

// reference reads a handle and returns the earlier object it names, which must be a T.
func reference[T any](d *decoder, what string) (T, error) {
	var zero T
	h, err := d.i32()
	if err != nil {
		return zero, err
	}
	i := int(h) - baseWireHandle
	if i < 0 || i >= len(d.handles) {
		return zero, fmt.Errorf("reference to unknown handle %#x", h)
	}
	v, ok := d.handles[i].(T)
	if !ok {
		return zero, fmt.Errorf("want %s, found a reference to a %T", what, d.handles[i])
	}
	return v, nil
}

// classDesc reads a class descriptor (new, a reference to an earlier one, or null).
func (d *decoder) classDesc() (*classDesc, error) {
	tc, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		return reference[*classDesc](d, "a class descriptor")
	case tcClassDesc:
	default:
		return nil, fmt.Errorf("want a class descriptor, found type code %#02x", tc)
	}
	cd := &classDesc{}
	if cd.name, err = d.utf(); err != nil {
		return nil, err
	}
	if _, err := d.need(8); err != nil { // serialVersionUID: the JVM's business, not ours
		return nil, err
	}
	d.newHandle(cd)
	if cd.flags, err = d.u8(); err != nil {
		return nil, err
	}
	n, err := d.u16()
	if err != nil {
		return nil, err
	}
	for range n {
		code, err := d.u8()
		if err != nil {
			return nil, err
		}
		name, err := d.utf()
		if err != nil {
			return nil, err
		}
		if code == 'L' || code == '[' {
			return nil, fmt.Errorf("class %s: object field %s is not supported", cd.name, name)
		}
		cd.fields = append(cd.fields, code)
	}
	if err := d.expect(tcEndBlockData, "the end of class "+cd.name+" (annotations are not supported)"); err != nil {
		return nil, err
	}
	super, err := d.classDesc()
	if err != nil {
		return nil, err
	}
	if super != nil {
		return nil, fmt.Errorf("class %s: serializable superclass %s is not supported", cd.name, super.name)
	}
	return cd, nil
}

// primitiveSize is the size in the stream of a primitive field of the type code.
func primitiveSize(code byte) (int, error) {
	switch code {
	case 'B', 'Z':
		return 1, nil
	case 'C', 'S':
		return 2, nil
	case 'F', 'I':
		return 4, nil
	case 'D', 'J':
		return 8, nil
	}
	return 0, fmt.Errorf("unknown field type code %q", code)
}

// expect reads one type code and fails unless it is want.
func (d *decoder) expect(want byte, what string) error {
	tc, err := d.u8()
	if err != nil {
		return err
	}
	if tc != want {
		return fmt.Errorf("want %s, found type code %#02x", what, tc)
	}
	return nil
}

func (d *decoder) hashMap() ([]Entry, error) {
	if err := d.expect(tcObject, "a "+hashMapClass+" object"); err != nil {
		return nil, err
	}
	cd, err := d.classDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil || cd.name != hashMapClass {
		return nil, fmt.Errorf("want a %s object, found %s", hashMapClass, className(cd))
	}
	if cd.flags&scWriteMethod == 0 {
		return nil, fmt.Errorf("%s written without its writeObject method", hashMapClass)
	}
	d.newHandle(hashMapMarker{})
	for _, code := range cd.fields { // loadFactor and threshold: HashMap recomputes both
		size, err := primitiveSize(code)
		if err != nil {
			return nil, err
		}
		if _, err := d.need(size); err != nil {
			return nil, err
		}
	}
	// HashMap.writeObject writes the bucket count and the size as block data, then the pairs.
	block, err := d.blockData()
	if err != nil {
		return nil, err
	}
	if len(block) != 8 {
		return nil, fmt.Errorf("%s header is %d bytes of block data, want 8", hashMapClass, len(block))
	}
	size := int32(binary.BigEndian.Uint32(block[4:]))
	if size < 0 {
		return nil, fmt.Errorf("%s size %d is negative", hashMapClass, size)
	}
	// Each pair takes at least two bytes, which bounds the allocation for a corrupt size.
	entries := make([]Entry, 0, min(int(size), (len(d.buf)-d.pos)/2))
	for i := range size {
		k, err := d.byteArray()
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		v, err := d.byteArray()
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		entries = append(entries, Entry{Key: k, Value: v})
	}
	if err := d.expect(tcEndBlockData, fmt.Sprintf("the end of %s's data after %d entries", hashMapClass, size)); err != nil {
		return nil, err
	}
	return entries, nil
}

func (d *decoder) blockData() ([]byte, error) {
	tc, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcBlockData:
		n, err := d.u8()
		if err != nil {
			return nil, err
		}
		return d.need(int(n))
	case tcBlockDataLong:
		n, err := d.i32()
		if err != nil {
			return nil, err
		}
		return d.need(int(n))
	}
	return nil, fmt.Errorf("want block data, found type code %#02x", tc)
}

// byteArray reads a byte[] (new or a reference to an earlier one) or null.
func (d *decoder) byteArray() ([]byte, error) {
	tc, err := d.u8()
	if err != nil {
		return nil, err
	}
	switch tc {
	case tcNull:
		return nil, nil
	case tcReference:
		return reference[[]byte](d, "a byte[]")
	case tcArray:
	case tcString:
		s, _ := d.utf()
		return nil, fmt.Errorf("want a byte[], found the string %q", s)
	case tcObject:
		cd, err := d.classDesc()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("want a byte[], found a %s object", className(cd))
	default:
		return nil, fmt.Errorf("want a byte[], found type code %#02x", tc)
	}
	cd, err := d.classDesc()
	if err != nil {
		return nil, err
	}
	if cd == nil || cd.name != byteArrClass {
		return nil, fmt.Errorf("want a byte[], found an array of class %s", className(cd))
	}
	n, err := d.i32()
	if err != nil {
		return nil, err
	}
	b, err := d.need(int(n))
	if err != nil {
		return nil, err
	}
	// Non-nil even when empty: an empty array is not Java's null.
	b = append(make([]byte, 0, len(b)), b...)
	d.newHandle(b)
	return b, nil
}

func className(cd *classDesc) string {
	if cd == nil {
		return "null"
	}
	return cd.name
}

// EncodeByteArrayMap encodes entries as ObjectOutputStream.writeObject writes a HashMap<byte[],
// byte[]> filled by put calls on a new HashMap, in the given order (Java's own order depends on
// identity hash codes, so only a one-entry map is byte-for-byte predictable). Keys must be
// distinct; a nil Key or Value is written as null.
func EncodeByteArrayMap(entries []Entry) ([]byte, error) {
	var b []byte
	b = binary.BigEndian.AppendUint16(b, 0xACED)
	b = binary.BigEndian.AppendUint16(b, streamVersion)
	b = append(b, tcObject, tcClassDesc)
	b = appendUTF(b, hashMapClass)
	b = binary.BigEndian.AppendUint64(b, hashMapUID)
	b = append(b, scSerializable|scWriteMethod)
	b = binary.BigEndian.AppendUint16(b, 2)
	b = append(b, 'F')
	b = appendUTF(b, "loadFactor")
	b = append(b, 'I')
	b = appendUTF(b, "threshold")
	b = append(b, tcEndBlockData, tcNull)
	// Handles: 0 the HashMap class, 1 the map, 2 the byte[] class once written.
	if len(entries) > math.MaxInt32 {
		return nil, errors.New("too many entries for a Java HashMap")
	}
	buckets, threshold := hashMapSizing(len(entries))
	b = binary.BigEndian.AppendUint32(b, math.Float32bits(0.75))
	b = binary.BigEndian.AppendUint32(b, uint32(threshold))
	b = append(b, tcBlockData, 8)
	b = binary.BigEndian.AppendUint32(b, uint32(buckets))
	b = binary.BigEndian.AppendUint32(b, uint32(len(entries)))
	classWritten := false
	appendArray := func(v []byte) error {
		if v == nil {
			b = append(b, tcNull)
			return nil
		}
		if len(v) > math.MaxInt32 {
			return fmt.Errorf("byte[] of %d bytes exceeds Java's array limit", len(v))
		}
		b = append(b, tcArray)
		if classWritten {
			b = append(b, tcReference)
			b = binary.BigEndian.AppendUint32(b, baseWireHandle+2)
		} else {
			b = append(b, tcClassDesc)
			b = appendUTF(b, byteArrClass)
			b = binary.BigEndian.AppendUint64(b, byteArrUID)
			b = append(b, scSerializable, 0, 0, tcEndBlockData, tcNull)
			classWritten = true
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
		return nil
	}
	for _, e := range entries {
		if err := appendArray(e.Key); err != nil {
			return nil, err
		}
		if err := appendArray(e.Value); err != nil {
			return nil, err
		}
	}
	return append(b, tcEndBlockData), nil
}

// hashMapSizing returns the table length and resize threshold a HashMap created empty with the
// default load factor has after n puts, which is what its writeObject records.
func hashMapSizing(n int) (buckets, threshold int) {
	if n == 0 {
		return 16, 0 // no table allocated yet
	}
	buckets = 16
	for n > buckets*3/4 && buckets < 1<<30 {
		buckets *= 2
	}
	return buckets, buckets * 3 / 4
}

func appendUTF(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
