package debezium

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/kconnect/kconnect/connect"
)

var partitionRoutingConfigDef = connect.NewConfigDef().
	Define(connect.ConfigKey{Name: "partition.payload.fields", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Validator: connect.ValidatorFunc("list without empty elements", func(name string, v any) error {
			for _, f := range v.([]string) {
				if strings.TrimSpace(f) == "" {
					return fmt.Errorf("Invalid value %s for configuration %s: The field cannot contain empty elements.", strings.Join(v.([]string), ","), name)
				}
			}
			return nil
		}),
		Doc: "Envelope fields whose values decide the partition, with dots into structs (after.id, source.table); change.<field> reads after, or before for deletes."}).
	Define(connect.ConfigKey{Name: "partition.topic.num", Type: connect.ConfigInt, Required: true, Importance: connect.High,
		Validator: connect.AtLeast(1), Doc: "Number of partitions of the topics this transform routes (select them with a TopicNameMatches predicate)."}).
	Define(connect.ConfigKey{Name: "partition.hash.function", Type: connect.ConfigString, Default: "java", Importance: connect.Low,
		Validator: connect.OneOf("java", "murmur"),
		Doc:       "Hash of the field values: java (Java's hashCode) or murmur (Debezium's MurmurHash3 of strings' UTF-8 and bytes, and of other values' hashCode)."})

// PartitionRouting picks the Kafka partition of change events from a hash of some of their
// fields (io.debezium.transforms.partitions.PartitionRouting), so the events of one entity keep
// their order on one partition even when the key is something else.
type PartitionRouting struct {
	fields     [][]string
	partitions int32
	murmur     bool
}

// ConfigDef returns the transform's configuration keys.
func (*PartitionRouting) ConfigDef() *connect.ConfigDef { return partitionRoutingConfigDef }

// Configure reads the configuration.
func (t *PartitionRouting) Configure(props map[string]string) error {
	cfg, err := partitionRoutingConfigDef.Parse(props)
	if err != nil {
		return err
	}
	t.fields = nil
	for _, f := range cfg.List("partition.payload.fields") {
		steps := strings.Split(f, ".")
		for i := range steps {
			steps[i] = strings.TrimSpace(steps[i])
		}
		t.fields = append(t.fields, steps)
	}
	t.partitions = int32(cfg.Int("partition.topic.num"))
	t.murmur = strings.EqualFold(cfg.String("partition.hash.function"), "murmur")
	return nil
}

// Apply sets the partition of a change event; other records pass unchanged.
func (t *PartitionRouting) Apply(rec *connect.Record) (*connect.Record, error) {
	if rec.Value == nil || !isEnvelope(rec) {
		return rec, nil
	}
	event, err := requireStruct(rec.Value, "partition routing")
	if err != nil {
		return nil, err
	}
	op, _ := event.Get(fieldOp).(string)
	if op == "t" || op == "m" {
		return rec, nil
	}
	var sum int32
	found := false
	for _, path := range t.fields {
		v, ok, err := fieldAt(event, path, op)
		if err != nil {
			return nil, fmt.Errorf("Unprocessable message %v: %w", event, err)
		}
		if !ok || v == nil {
			continue
		}
		h, err := t.hash(v)
		if err != nil {
			return nil, fmt.Errorf("Unprocessable message %v: %w", event, err)
		}
		sum += h
		found = true
	}
	if !found {
		return rec, nil
	}
	hash := sum & math.MaxInt32
	if hash == math.MaxInt32 {
		hash = 0
	}
	out := *rec
	out.Partition = hash % t.partitions
	return &out, nil
}

// hash is the configured hash of one value.
func (t *PartitionRouting) hash(v any) (int32, error) {
	if !t.murmur {
		return javaHashCode(v)
	}
	switch x := v.(type) {
	case string:
		return murmur32([]byte(x)), nil
	case []byte:
		return murmur32(x), nil
	}
	h, err := javaHashCode(v)
	if err != nil {
		return 0, err
	}
	return murmur32(binary.LittleEndian.AppendUint32(nil, uint32(h))), nil
}

// fieldAt reads a dotted path in the event; ok is false where a field does not exist. A null
// struct on the way is an error, as in Debezium.
func fieldAt(event *connect.Struct, path []string, op string) (any, bool, error) {
	cur := event
	for i, step := range path {
		if step == "change" && i < len(path)-1 {
			step = fieldAfter
			if op == "d" {
				step = fieldBefore
			}
		}
		f := cur.Schema().Field(step)
		if f == nil {
			return nil, false, nil
		}
		v := cur.GetAt(f.Index)
		if i == len(path)-1 {
			return v, true, nil
		}
		next, ok := v.(*connect.Struct)
		if !ok {
			if v == nil {
				return nil, false, fmt.Errorf("field %s is null", strings.Join(path[:i+1], "."))
			}
			return nil, false, nil
		}
		cur = next
	}
	return nil, false, nil
}

// javaHashCode is the hashCode of v's Java counterpart (String, Integer, Long, Double, BigDecimal,
// Date, List, Map …). Structs and bytes have none that is stable, so they are refused.
func javaHashCode(v any) (int32, error) {
	switch x := v.(type) {
	case string:
		var h int32
		for _, c := range utf16.Encode([]rune(x)) {
			h = 31*h + int32(c)
		}
		return h, nil
	case int8:
		return int32(x), nil
	case int16:
		return int32(x), nil
	case int32:
		return x, nil
	case int64:
		return int32(x ^ int64(uint64(x)>>32)), nil
	case bool:
		if x {
			return 1231, nil
		}
		return 1237, nil
	case float32:
		if x != x {
			return 0x7fc00000, nil
		}
		return int32(math.Float32bits(x)), nil
	case float64:
		bits := math.Float64bits(x)
		if x != x {
			bits = 0x7ff8000000000000
		}
		return int32(bits ^ bits>>32), nil
	case time.Time:
		ms := x.UnixMilli()
		return int32(ms ^ int64(uint64(ms)>>32)), nil
	case connect.Decimal:
		return 31*bigIntHashCode(x.Unscaled) + x.Scale, nil
	case []any:
		h := int32(1)
		for _, e := range x {
			eh, err := nullableHash(e)
			if err != nil {
				return 0, err
			}
			h = 31*h + eh
		}
		return h, nil
	case map[string]any:
		var h int32
		for k, e := range x {
			kh, _ := javaHashCode(k)
			eh, err := nullableHash(e)
			if err != nil {
				return 0, err
			}
			h += kh ^ eh
		}
		return h, nil
	}
	return 0, fmt.Errorf("cannot compute a partition from a value of type %T", v)
}

func nullableHash(v any) (int32, error) {
	if v == nil {
		return 0, nil
	}
	return javaHashCode(v)
}

// bigIntHashCode is BigInteger.hashCode: the 32-bit words of the magnitude, most significant
// first, folded with 31, times the sign.
func bigIntHashCode(n *big.Int) int32 {
	if n == nil || n.Sign() == 0 {
		return 0
	}
	mag := new(big.Int).Abs(n).Bytes()
	for len(mag)%4 != 0 {
		mag = append([]byte{0}, mag...)
	}
	var h int32
	for i := 0; i < len(mag); i += 4 {
		word := uint32(mag[i])<<24 | uint32(mag[i+1])<<16 | uint32(mag[i+2])<<8 | uint32(mag[i+3])
		h = 31*h + int32(word)
	}
	return h * int32(n.Sign())
}

// murmur32 is Debezium's MurmurHash3_x64_32 with its seed 9001: a MurmurHash3 x64 variant whose
// mixing constants advance with each block and whose tail bytes are sign-extended, as Java's are.
func murmur32(key []byte) int32 {
	const seed = 9001
	h1, h2 := uint64(0x9368e53c2f6af274)^seed, uint64(0x586dcd208f7cd3fd)^seed
	c1, c2 := uint64(0x87c37b91114253d5), uint64(0x4cf5ad432745937f)
	mix := func(k1, k2 uint64) {
		k1 *= c1
		k1 = bits.RotateLeft64(k1, 23)
		k1 *= c2
		h1 ^= k1
		h1 += h2
		h2 = bits.RotateLeft64(h2, 41)
		k2 *= c2
		k2 = bits.RotateLeft64(k2, 23)
		k2 *= c1
		h2 ^= k2
		h2 += h1
		h1 = h1*3 + 0x52dce729
		h2 = h2*3 + 0x38495ab5
		c1 = c1*5 + 0x7b7d159c
		c2 = c2*5 + 0x6bce6396
	}
	n := len(key)
	for i := 0; i+16 <= n; i += 16 {
		mix(binary.LittleEndian.Uint64(key[i:]), binary.LittleEndian.Uint64(key[i+8:]))
	}
	if rest := key[n&^15:]; len(rest) > 0 {
		var k1, k2 uint64
		for i, b := range rest {
			signed := uint64(int64(int8(b)))
			if i < 8 {
				k1 ^= signed << (8 * i)
			} else {
				k2 ^= signed << (8 * (i - 8))
			}
		}
		mix(k1, k2)
	}
	h2 ^= uint64(n)
	h1 += h2
	h2 += h1
	h1, h2 = fmix64(h1), fmix64(h2)
	h1 += h2
	return int32(h1 >> 32)
}

func fmix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// Close releases nothing.
func (*PartitionRouting) Close() error { return nil }
