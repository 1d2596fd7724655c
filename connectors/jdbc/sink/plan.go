package sink

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kconnect/kconnect/connect"
)

type opKind uint8

const (
	opWrite opKind = iota
	opDelete
)

// op is one record's effect on a table; its values live in the segment's vals from start on
// (key columns first, so a delete or a key lookup reads the first nkey of them).
type op struct {
	rec   int32 // index of the record in the Put batch
	start int32
	entry int32 // dedupe entry, -1 when the layout has no key to dedupe on
	kind  opKind
}

type keyEntry struct {
	last    int32 // index of the last op with this key
	deleted bool  // a delete of this key came before the last op
}

// segment is a run of consecutive records for one table that share a layout (upstream flushes at
// every schema change; so do we, keeping the order of statements across schemas), or a truncate.
type segment struct {
	layout   *layout
	truncate bool

	vals    []any
	ops     []op
	keys    map[any]int32
	entries []keyEntry

	// Filled by finish: what to execute, deletes first. A write whose key was deleted earlier in
	// the segment appears in both, so the row is replaced rather than merged.
	deletes []int32
	writes  []int32
}

func (s *segment) row(o op) []any    { return s.vals[o.start : int(o.start)+len(s.layout.cols)] }
func (s *segment) keyRow(o op) []any { return s.vals[o.start : int(o.start)+s.layout.nkey] }

// finish keeps the last op per key and splits them into deletes and writes.
func (s *segment) finish() {
	for i, o := range s.ops {
		if o.entry >= 0 {
			e := s.entries[o.entry]
			if e.last != int32(i) {
				continue
			}
			if o.kind == opWrite && e.deleted {
				s.deletes = append(s.deletes, int32(i))
			}
		}
		if o.kind == opDelete {
			s.deletes = append(s.deletes, int32(i))
		} else {
			s.writes = append(s.writes, int32(i))
		}
	}
	s.keys, s.entries = nil, nil
}

type tablePlan struct {
	table *tableState
	steps []*segment
}

// newSegment appends a segment. The table's first segment is sized for the rest of the batch,
// which is usually all of it; later ones (after a schema change) grow as needed, so alternating
// schemas cannot multiply the reservation.
func (tp *tablePlan) newSegment(l *layout, remaining int) *segment {
	s := &segment{layout: l}
	if len(tp.steps) == 0 {
		s.vals = make([]any, 0, remaining*len(l.cols))
		s.ops = make([]op, 0, remaining)
	}
	tp.steps = append(tp.steps, s)
	return s
}

func (tp *tablePlan) current() *segment {
	if len(tp.steps) == 0 {
		return nil
	}
	return tp.steps[len(tp.steps)-1]
}

// plan is a Put batch turned into per-table statements' worth of rows, plus the Kafka offsets
// it covers.
type plan struct {
	tables  []*tablePlan
	byTable map[*tableState]*tablePlan
	// next is, per partition, the offset after the last record of the batch; first is the first
	// record's offset, to tell cheaply whether stored offsets filter anything out.
	next  map[connect.TopicPartition]int64
	first map[connect.TopicPartition]int64
	rows  int // ops kept after dedupe
	size  int // records in the batch, to size a table's first segment

	lastTS *tableState // one-entry cache of tablePlan
	lastTP *tablePlan
}

// envelope locates the parts of a Debezium change event value.
type envelope struct {
	op, after, source int
	afterSchema       *connect.Schema
}

// detectEnvelope recognises a Debezium change event by its shape: struct fields before and after
// of the same struct schema, and a string op.
func detectEnvelope(s *connect.Schema) *envelope {
	if s == nil || s.Type != connect.TypeStruct {
		return nil
	}
	op, before, after := s.Field("op"), s.Field("before"), s.Field("after")
	if op == nil || before == nil || after == nil || op.Schema.Type != connect.TypeString ||
		after.Schema.Type != connect.TypeStruct || before.Schema.Type != connect.TypeStruct {
		return nil
	}
	e := &envelope{op: op.Index, after: after.Index, source: -1, afterSchema: after.Schema}
	if src := s.Field("source"); src != nil && src.Schema.Type == connect.TypeStruct {
		e.source = src.Index
	}
	return e
}

// schemaHint is the advice given whenever a record arrives without the schema the sink needs.
const schemaHint = "the JDBC sink needs records with schemas: enable them in the converter " +
	"(value.converter.schemas.enable=true / key.converter.schemas.enable=true with the JsonConverter) or use Avro"

// buildPlan turns records into a plan. Records in skip (reported to the dead-letter queue) and
// records below floor (already in the database) count for offsets but are not written. The first
// record that cannot be converted is returned as a *RecordError.
func (t *Task) buildPlan(records []connect.SinkRecord, skip map[int]bool, floor map[connect.TopicPartition]int64) (*plan, error) {
	p := &plan{
		byTable: map[*tableState]*tablePlan{},
		next:    map[connect.TopicPartition]int64{},
		first:   map[connect.TopicPartition]int64{},
		size:    len(records),
	}
	// Batches come in runs of one partition; track the run's end offset locally and touch the
	// maps only when the partition changes.
	var cur connect.TopicPartition
	var curNext int64
	inRun := false
	endRun := func() {
		if inRun && curNext > p.next[cur] {
			p.next[cur] = curNext
		}
	}
	for i := range records {
		rec := &records[i]
		if !inRun || rec.Partition != cur.Partition || rec.Topic != cur.Topic {
			endRun()
			cur, inRun = connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}, true
			curNext = p.next[cur]
			if _, ok := p.first[cur]; !ok {
				p.first[cur] = rec.Offset
			}
		}
		curNext = max(curNext, rec.Offset+1)
		if len(skip) > 0 && skip[i] {
			continue
		}
		if floor != nil {
			if f, ok := floor[cur]; ok && rec.Offset < f {
				continue
			}
		}
		if err := t.planRecord(p, i, rec); err != nil {
			return nil, &RecordError{Topic: rec.Topic, Partition: rec.Partition, Offset: rec.Offset, Index: i, Err: err}
		}
	}
	endRun()
	for _, tp := range p.tables {
		for _, s := range tp.steps {
			if !s.truncate {
				s.finish()
				p.rows += len(s.writes)
			}
		}
	}
	return p, nil
}

func (t *Task) planRecord(p *plan, i int, rec *connect.SinkRecord) error {
	c := t.cfg
	var (
		row      *connect.Struct
		rowSch   *connect.Schema
		env      *envelope
		envValue *connect.Struct
		kind     = opWrite
	)
	switch {
	case rec.Value == nil:
		if !c.deleteEnabled {
			t.log.Debug("skipping tombstone: delete.enabled=false", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
			return nil
		}
		kind = opDelete
	case rec.ValueSchema == nil:
		return fmt.Errorf("the record value has no schema; %s", schemaHint)
	default:
		env = t.envelopeOf(rec.ValueSchema)
		st, ok := rec.Value.(*connect.Struct)
		if !ok {
			return fmt.Errorf("the record value must be a struct, but its schema is %s (Go type %T)", rec.ValueSchema, rec.Value)
		}
		if env == nil {
			row, rowSch = st, rec.ValueSchema
			break
		}
		envValue = st
		rowSch = env.afterSchema
		opCode, _ := st.GetAt(env.op).(string)
		switch opCode {
		case "c", "r", "u":
			after, ok := st.GetAt(env.after).(*connect.Struct)
			if !ok {
				return fmt.Errorf("a Debezium %q event has no after value", opCode)
			}
			row = after
		case "d":
			if !c.deleteEnabled {
				t.log.Debug("skipping Debezium delete event: delete.enabled=false", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
				return nil
			}
			kind = opDelete
		case "t":
			if !c.truncateEnabled {
				t.log.Debug("skipping Debezium truncate event: truncate.enabled=false", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
				return nil
			}
			ts, err := t.tableFor(rec, env, envValue)
			if err != nil || ts == nil {
				return err
			}
			tp := p.tablePlan(ts)
			tp.steps = append(tp.steps, &segment{truncate: true})
			return nil
		default:
			t.log.Debug("skipping Debezium event", "op", opCode, "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
			return nil
		}
	}
	if kind == opDelete && rec.Key == nil {
		return fmt.Errorf("a delete needs the record key, but it is null")
	}
	if rec.Key != nil && rec.KeySchema == nil && c.pkMode == pkRecordKey {
		return fmt.Errorf("the record key has no schema; %s", schemaHint)
	}

	ts, err := t.tableFor(rec, env, envValue)
	if err != nil || ts == nil {
		return err
	}
	tp := p.tablePlan(ts)
	seg := tp.current()
	if kind == opDelete {
		// A delete only needs the key, so it joins the current segment when that reads the key
		// the same way; otherwise it starts a key-only one.
		if seg == nil || seg.truncate || !sameSchema(seg.layout.keySchema, rec.KeySchema) || seg.layout.topic != rec.Topic {
			l, err := t.layoutFor(ts, rec.Topic, rec.KeySchema, rowSch)
			if err != nil {
				return err
			}
			seg = tp.newSegment(l, p.size-i)
		}
	} else {
		l, err := t.layoutFor(ts, rec.Topic, rec.KeySchema, rowSch)
		if err != nil {
			return err
		}
		if seg == nil || seg.truncate || seg.layout != l {
			seg = tp.newSegment(l, p.size-i)
		}
	}
	return t.appendOp(seg, i, rec, row, kind)
}

func (p *plan) tablePlan(ts *tableState) *tablePlan {
	if ts == p.lastTS {
		return p.lastTP
	}
	tp := p.byTable[ts]
	if tp == nil {
		tp = &tablePlan{table: ts}
		p.byTable[ts] = tp
		p.tables = append(p.tables, tp)
	}
	p.lastTS, p.lastTP = ts, tp
	return tp
}

func (t *Task) appendOp(seg *segment, i int, rec *connect.SinkRecord, row *connect.Struct, kind opKind) error {
	l := seg.layout
	start := len(seg.vals)
	vals, err := l.extract(seg.vals, rec, row, kind == opDelete)
	seg.vals = vals
	if err != nil {
		seg.vals = seg.vals[:start]
		return err
	}
	o := op{rec: int32(i), start: int32(start), entry: -1, kind: kind}
	// Kafka coordinates never repeat, so only the other key modes dedupe.
	if t.cfg.pkMode == pkRecordKey || t.cfg.pkMode == pkRecordValue {
		if seg.keys == nil {
			seg.keys = make(map[any]int32, cap(seg.ops))
		}
		k := dedupeKey(seg.vals[start : start+l.nkey])
		if e, ok := seg.keys[k]; ok {
			if seg.ops[seg.entries[e].last].kind == opDelete {
				seg.entries[e].deleted = true
			}
			seg.entries[e].last = int32(len(seg.ops))
			o.entry = e
		} else {
			o.entry = int32(len(seg.entries))
			seg.keys[k] = o.entry
			seg.entries = append(seg.entries, keyEntry{last: int32(len(seg.ops))})
		}
	}
	cols := l.cols
	for j := start; j < len(seg.vals); j++ {
		if seg.vals[j] == nil {
			continue
		}
		v, err := t.db.bindValue(&cols[j-start], seg.vals[j])
		if err != nil {
			seg.vals = seg.vals[:start]
			return fmt.Errorf("field %s: %w", cols[j-start].name, err)
		}
		seg.vals[j] = v
	}
	seg.ops = append(seg.ops, o)
	return nil
}

func sameSchema(a, b *connect.Schema) bool { return a == b || a.Equal(b) }

// dedupeKey turns key column values into a map key: the value itself for the common single
// comparable column, an unambiguous byte encoding otherwise.
func dedupeKey(vals []any) any {
	if len(vals) == 1 {
		switch v := vals[0].(type) {
		case int8, int16, int32, int64, string, bool:
			return v
		}
	}
	var b []byte
	for _, v := range vals {
		switch x := v.(type) {
		case nil:
			b = append(b, 'n')
		case int8:
			b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		case int16:
			b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		case int32:
			b = strconv.AppendInt(append(b, 'i'), int64(x), 10)
		case int64:
			b = strconv.AppendInt(append(b, 'i'), x, 10)
		case float32:
			b = binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(float64(x)))
		case float64:
			b = binary.BigEndian.AppendUint64(append(b, 'f'), math.Float64bits(x))
		case bool:
			b = strconv.AppendBool(append(b, 'b'), x)
		case string:
			b = append(binary.AppendUvarint(append(b, 's'), uint64(len(x))), x...)
		case []byte:
			b = append(binary.AppendUvarint(append(b, 'y'), uint64(len(x))), x...)
		case time.Time:
			b = strconv.AppendInt(append(b, 't'), x.UnixNano(), 10)
		case connect.Decimal:
			s := x.Rat().RatString()
			b = append(binary.AppendUvarint(append(b, 'd'), uint64(len(s))), s...)
		default:
			s := fmt.Sprintf("%T:%v", v, v)
			b = append(binary.AppendUvarint(append(b, 'x'), uint64(len(s))), s...)
		}
		b = append(b, 0)
	}
	return string(b)
}

// envelopeOf caches envelope detection per value schema.
func (t *Task) envelopeOf(s *connect.Schema) *envelope {
	if s == t.lastEnvSchema {
		return t.lastEnv
	}
	if e, ok := t.envelopes[s]; ok {
		t.lastEnvSchema, t.lastEnv = s, e
		return e
	}
	if len(t.envelopes) >= cacheLimit {
		clear(t.envelopes)
	}
	e := detectEnvelope(s)
	t.envelopes[s] = e
	t.lastEnvSchema, t.lastEnv = s, e
	return e
}

// cacheLimit bounds the per-schema caches; a producer that makes a new schema object per record
// costs recomputation, not memory.
const cacheLimit = 1024

type layoutKey struct {
	table    *tableState
	topic    string
	key, row *connect.Schema
}

func (t *Task) layoutFor(ts *tableState, topic string, keySchema, rowSchema *connect.Schema) (*layout, error) {
	k := layoutKey{table: ts, topic: topic, key: keySchema, row: rowSchema}
	if k == t.lastLayoutKey {
		return t.lastLayout, nil
	}
	if l, ok := t.layouts[k]; ok {
		t.lastLayoutKey, t.lastLayout = k, l
		return l, nil
	}
	// Converters usually hand out the same schema object; when they do not, an equal schema
	// seen before still maps to the same layout, so segments are not split needlessly.
	for ok, l := range t.layouts {
		if ok.table == ts && ok.topic == topic && sameSchema(ok.key, keySchema) && sameSchema(ok.row, rowSchema) {
			t.layouts[k] = l
			t.lastLayoutKey, t.lastLayout = k, l
			return l, nil
		}
	}
	l, err := buildLayout(t.cfg, ts.id.String(), topic, keySchema, rowSchema)
	if err != nil {
		return nil, err
	}
	if len(t.layouts) >= cacheLimit {
		clear(t.layouts)
	}
	t.layouts[k] = l
	t.lastLayoutKey, t.lastLayout = k, l
	return l, nil
}

// tableFor resolves the destination table of a record from table.name.format. It returns nil
// (skip) when the format needs a Debezium source block the record does not have, as Debezium does.
func (t *Task) tableFor(rec *connect.SinkRecord, env *envelope, envValue *connect.Struct) (*tableState, error) {
	format := t.cfg.tableNameFormat
	if !t.cfg.sourcePlaceholders {
		if rec.Topic == t.lastTopic && t.lastTopicTable != nil {
			return t.lastTopicTable, nil
		}
		if ts, ok := t.topicTables[rec.Topic]; ok {
			t.lastTopic, t.lastTopicTable = rec.Topic, ts
			return ts, nil
		}
		ts, err := t.tableNamed(t.resolveTopic(format, rec.Topic))
		if err != nil {
			return nil, err
		}
		t.topicTables[rec.Topic] = ts
		t.lastTopic, t.lastTopicTable = rec.Topic, ts
		return ts, nil
	}
	var source *connect.Struct
	if env != nil && env.source >= 0 && envValue != nil {
		source, _ = envValue.GetAt(env.source).(*connect.Struct)
	}
	if source == nil {
		t.log.Warn("skipping record: table.name.format refers to the Debezium source block, which this record lacks",
			"format", format, "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
		return nil, nil
	}
	name := t.resolveTopic(format, rec.Topic)
	for {
		i := strings.Index(name, "${source.")
		if i < 0 {
			break
		}
		j := strings.IndexByte(name[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("table.name.format %q has an unterminated ${source. placeholder", format)
		}
		field := name[i+len("${source.") : i+j]
		v, ok := source.Get(field).(string)
		if !ok {
			return nil, fmt.Errorf("table.name.format %q refers to source field %q, which is missing or not a string", format, field)
		}
		name = name[:i] + v + name[i+j+1:]
	}
	return t.tableNamed(name)
}

func (t *Task) resolveTopic(format, topic string) string {
	if t.cfg.debezium {
		topic = strings.ReplaceAll(topic, ".", "_")
	}
	return strings.ReplaceAll(format, "${topic}", topic)
}

func (t *Task) tableNamed(name string) (*tableState, error) {
	id, err := t.db.parseTable(name, t.cfg.quoteIdents)
	if err != nil {
		return nil, err
	}
	k := id.String()
	if ts, ok := t.tables[k]; ok {
		return ts, nil
	}
	ts := &tableState{id: id}
	t.tables[k] = ts
	return ts, nil
}
