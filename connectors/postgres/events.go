package postgres

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/kconnect/kconnect/connect"
)

// debeziumVersion is the Debezium release whose event format kconnect reproduces; it is what the
// source block's version field reports, so consumers that branch on it keep working.
const debeziumVersion = "3.6.1.Final"

// Names of Debezium's fixed schemas.
const (
	sourceSchemaName    = "io.debezium.connector.postgresql.Source"
	heartbeatKeyName    = "io.debezium.connector.common.ServerNameKey"
	heartbeatValueName  = "io.debezium.connector.common.Heartbeat"
	txKeySchemaName     = "io.debezium.connector.common.TransactionMetadataKey"
	txValueSchemaName   = "io.debezium.connector.common.TransactionMetadataValue"
	envelopeVersion     = 2
	snapshotEnumAllowed = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"
)

// Debezium's op codes.
const (
	opCreate   = 'c'
	opUpdate   = 'u'
	opDelete   = 'd'
	opRead     = 'r'
	opTruncate = 't'
)

var (
	sourceSchema = connect.StructBuilder().Name(sourceSchemaName).Version(1).
			Field("version", connect.StringSchema).
			Field("connector", connect.StringSchema).
			Field("name", connect.StringSchema).
			Field("ts_ms", connect.Int64Schema).
			Field("snapshot", connect.NewSchemaBuilder(connect.TypeString).Name(nameEnum).Version(1).
				Param("allowed", snapshotEnumAllowed).Default("false").Optional().MustBuild()).
			Field("db", connect.StringSchema).
			Field("sequence", connect.OptionalStringSchema).
			Field("ts_us", connect.OptionalInt64Schema).
			Field("ts_ns", connect.OptionalInt64Schema).
			Field("schema", connect.StringSchema).
			Field("table", connect.StringSchema).
			Field("txId", connect.OptionalInt64Schema).
			Field("lsn", connect.OptionalInt64Schema).
			Field("xmin", connect.OptionalInt64Schema).
			Field("origin", connect.OptionalStringSchema).
			Field("origin_lsn", connect.OptionalInt64Schema).
			MustBuild()

	txBlockSchema = connect.StructBuilder().Name("event.block").Version(1).Optional().
			Field("id", connect.StringSchema).
			Field("total_order", connect.Int64Schema).
			Field("data_collection_order", connect.Int64Schema).
			MustBuild()

	heartbeatKeySchema = connect.StructBuilder().Name(heartbeatKeyName).Version(1).
				Field("serverName", connect.StringSchema).MustBuild()
	heartbeatValueSchema = connect.StructBuilder().Name(heartbeatValueName).Version(1).
				Field("ts_ms", connect.Int64Schema).MustBuild()

	txKeySchema = connect.StructBuilder().Name(txKeySchemaName).Version(1).
			Field("id", connect.StringSchema).MustBuild()
	txCollectionSchema = connect.StructBuilder().Name("event.collection").Version(1).Optional().
				Field("data_collection", connect.StringSchema).
				Field("event_count", connect.Int64Schema).MustBuild()
	txValueSchema = connect.StructBuilder().Name(txValueSchemaName).Version(1).
			Field("status", connect.StringSchema).
			Field("id", connect.StringSchema).
			Field("event_count", connect.OptionalInt64Schema).
			Field("data_collections", connect.ArrayBuilder(txCollectionSchema).Optional().MustBuild()).
			Field("ts_ms", connect.Int64Schema).
			MustBuild()
)

// Field positions in sourceSchema, for SetAt on the hot path.
const (
	srcVersion = iota
	srcConnector
	srcName
	srcTsMs
	srcSnapshot
	srcDB
	srcSequence
	srcTsUs
	srcTsNs
	srcSchema
	srcTable
	srcTxID
	srcLSN
	srcXmin
)

// colDef describes one column as the catalog and the Relation message tell it.
type colDef struct {
	name    string
	typeOID uint32
	typmod  int32
	notNull bool
	pk      bool
}

// column is a column of a captured table with its place in the key and value structs.
type column struct {
	colDef
	colType
	valueIdx int // field index in the value struct, -1 when filtered out or unmapped
	keyIdx   int // field index in the key struct, -1 when not part of the primary key
}

// tableSchema is everything needed to turn a row of one table into Debezium events. It is
// immutable: a Relation message after ALTER TABLE replaces it.
type tableSchema struct {
	schema, name string
	collection   string // schema.table, Debezium's data collection id
	topic        string
	cols         []column
	keySchema    *connect.Schema // nil for tables without a primary key
	valueSchema  *connect.Schema
	envelope     *connect.Schema
	keyFieldCols []int // index into cols of each key field
}

// buildTable maps a table's columns; columns whose types have no mapping are left out, as Debezium does.
func buildTable(cfg *config, tm *typeMapper, schema, name string, defs []colDef) (*tableSchema, error) {
	t := &tableSchema{schema: schema, name: name, collection: schema + "." + name,
		topic: cfg.prefix + "." + schema + "." + name}
	vb := connect.StructBuilder().Name(t.topic + ".Value").Optional()
	kb := connect.StructBuilder().Name(t.topic + ".Key")
	nv, nk := 0, 0
	for _, d := range defs {
		c := column{colDef: d, valueIdx: -1, keyIdx: -1}
		ct, err := tm.column(d.typeOID, d.typmod, !d.notNull && !d.pk)
		switch {
		case errors.Is(err, errUnmapped):
			t.cols = append(t.cols, c)
			continue
		case err != nil:
			return nil, fmt.Errorf("column %s.%s.%s: %w", schema, name, d.name, err)
		}
		c.colType = ct
		if d.pk {
			kb.Field(d.name, ct.schema)
			c.keyIdx = nk
			nk++
			t.keyFieldCols = append(t.keyFieldCols, len(t.cols))
		}
		if cfg.filter.column(schema, name, d.name) {
			vb.Field(d.name, ct.schema)
			c.valueIdx = nv
			nv++
		}
		t.cols = append(t.cols, c)
	}
	var err error
	if t.valueSchema, err = vb.Build(); err != nil {
		return nil, fmt.Errorf("value schema of %s: %w", t.collection, err)
	}
	if nk > 0 {
		if t.keySchema, err = kb.Build(); err != nil {
			return nil, fmt.Errorf("key schema of %s: %w", t.collection, err)
		}
	}
	t.envelope, err = connect.StructBuilder().Name(t.topic+".Envelope").Version(envelopeVersion).
		Field("before", t.valueSchema).
		Field("after", t.valueSchema).
		Field("source", sourceSchema).
		Field("transaction", txBlockSchema).
		Field("op", connect.StringSchema).
		Field("ts_ms", connect.OptionalInt64Schema).
		Field("ts_us", connect.OptionalInt64Schema).
		Field("ts_ns", connect.OptionalInt64Schema).
		Build()
	if err != nil {
		return nil, fmt.Errorf("envelope schema of %s: %w", t.collection, err)
	}
	return t, nil
}

// cell is one column value of a row: the text or binary form PostgreSQL sent, or null, or an
// unchanged TOASTed value.
type cell struct {
	data []byte
	kind byte // 't' text, 'b' binary, 'n' null, 'u' unchanged toast
}

// rowValues converts the cells of one row into a value struct and, when the table has one, a key struct.
func (t *tableSchema) rowValues(cells []cell) (value, key *connect.Struct, err error) {
	if len(cells) != len(t.cols) {
		return nil, nil, fmt.Errorf("table %s: row has %d columns, the schema %d (the relation changed without a Relation message)", t.collection, len(cells), len(t.cols))
	}
	value = connect.NewStruct(t.valueSchema)
	if t.keySchema != nil {
		key = connect.NewStruct(t.keySchema)
	}
	for i := range t.cols {
		c := &t.cols[i]
		if c.valueIdx < 0 && c.keyIdx < 0 {
			continue
		}
		var v any
		switch cells[i].kind {
		case 't':
			if v, err = c.decode(cells[i].data); err != nil {
				return nil, nil, fmt.Errorf("table %s column %s: %w", t.collection, c.name, err)
			}
		case 'b':
			if c.decodeBin == nil {
				return nil, nil, fmt.Errorf("table %s column %s: binary value for a column read as text", t.collection, c.name)
			}
			if v, err = c.decodeBin(cells[i].data); err != nil {
				return nil, nil, fmt.Errorf("table %s column %s: %w", t.collection, c.name, err)
			}
		case 'u':
			v = c.placeholder
		}
		if v == nil && !c.schema.Optional {
			v = c.zero
		}
		if c.valueIdx >= 0 {
			value.SetAt(c.valueIdx, v)
		}
		if key != nil && c.keyIdx >= 0 {
			key.SetAt(c.keyIdx, v)
		}
	}
	return value, key, nil
}

// sourceInfo is what a change event's source block says beyond the table.
type sourceInfo struct {
	snapshot   string // "" while streaming
	commitTime time.Time
	txID       int64
	lsn        pglogrepl.LSN
	lastCommit pglogrepl.LSN // end of the last commit seen; 0 (null in sequence) before the first
}

func lsnString(l pglogrepl.LSN) string { return strconv.FormatUint(uint64(l), 10) }

func (t *tableSchema) source(cfg *config, s *sourceInfo) *connect.Struct {
	st := connect.NewStruct(sourceSchema)
	st.SetAt(srcVersion, debeziumVersion)
	st.SetAt(srcConnector, "postgresql")
	st.SetAt(srcName, cfg.prefix)
	// Debezium's timestamps are Java Instants of microsecond precision (PostgreSQL's commit time,
	// or Instant.now() during a snapshot), so ts_ns always ends in 000.
	ns := s.commitTime.UnixMicro() * 1e3
	st.SetAt(srcTsMs, ns/1e6)
	if s.snapshot != "" {
		st.SetAt(srcSnapshot, s.snapshot)
	} else {
		st.SetAt(srcSnapshot, "false")
	}
	st.SetAt(srcDB, cfg.dbname)
	seq := make([]byte, 0, 48)
	seq = append(seq, '[')
	if s.lastCommit != 0 {
		seq = strconv.AppendQuote(seq, lsnString(s.lastCommit))
	} else {
		seq = append(seq, "null"...)
	}
	seq = append(seq, ',')
	seq = strconv.AppendQuote(seq, lsnString(s.lsn))
	seq = append(seq, ']')
	st.SetAt(srcSequence, string(seq))
	st.SetAt(srcTsUs, ns/1e3)
	st.SetAt(srcTsNs, ns)
	st.SetAt(srcSchema, t.schema)
	st.SetAt(srcTable, t.name)
	st.SetAt(srcTxID, s.txID)
	st.SetAt(srcLSN, int64(s.lsn))
	return st
}

// stamps are the processing time fields of an envelope (ts_ms, ts_us, ts_ns), boxed once so that
// the rows of a snapshot batch can share them.
type stamps struct{ ms, us, ns any }

func stampsAt(now time.Time) stamps {
	ns := now.UnixNano()
	return stamps{ms: ns / 1e6, us: ns / 1e3, ns: ns}
}

// envelopeValue builds the change event value.
func (t *tableSchema) envelopeValue(op byte, before, after, source, tx *connect.Struct, ts stamps) *connect.Struct {
	env := connect.NewStruct(t.envelope)
	if before != nil {
		env.SetAt(0, before)
	}
	if after != nil {
		env.SetAt(1, after)
	}
	env.SetAt(2, source)
	if tx != nil {
		env.SetAt(3, tx)
	}
	env.SetAt(4, opString(op))
	env.SetAt(5, ts.ms)
	env.SetAt(6, ts.us)
	env.SetAt(7, ts.ns)
	return env
}

func opString(op byte) string {
	switch op {
	case opCreate:
		return "c"
	case opUpdate:
		return "u"
	case opDelete:
		return "d"
	case opRead:
		return "r"
	}
	return "t"
}

// keysEqual compares two key structs field by field.
func keysEqual(a, b *connect.Struct) bool {
	if a == nil || b == nil {
		return a == b
	}
	for i := range a.Schema().Fields {
		if !connect.ValuesEqual(a.Raw(i), b.Raw(i)) {
			return false
		}
	}
	return true
}

// Debezium's context headers (DebeziumHeaders, DebeziumHeaderProducer), added to every data change
// event and its tombstone unless extended.headers.enabled is false.
const (
	hdrLogicalName = "__debezium.context.connectorLogicalName"
	hdrTaskID      = "__debezium.context.taskId"
	hdrConnector   = "__debezium.context.connectorName"
	hdrRunID       = "__debezium.context.runId"
	// debeziumTaskID is what Debezium's PostgreSQL task context reports: it is always built with
	// task id "0", as the connector runs a single task.
	debeziumTaskID = "0"
)

// contextHeaders returns the context headers of one task run, with a new run id, or nil when
// they are turned off.
func contextHeaders(cfg *config) connect.Headers {
	if !cfg.extendedHeaders {
		return nil
	}
	return connect.Headers{
		{Key: hdrLogicalName, Schema: connect.StringSchema, Value: cfg.prefix},
		{Key: hdrTaskID, Schema: connect.StringSchema, Value: debeziumTaskID},
		{Key: hdrConnector, Schema: connect.StringSchema, Value: "postgresql"},
		{Key: hdrRunID, Schema: connect.StringSchema, Value: newRunID()},
	}
}

// newRunID returns a UUID version 7 (RFC 9562) in its text form, the kind Debezium generates for
// a run: time-ordered, so later runs sort after earlier ones.
func newRunID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails since Go 1.24
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(time.Now().UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = 0x70 | u[6]&0x0f
	u[8] = 0x80 | u[8]&0x3f
	s, _ := binUUID(u[:]) // fails only on a length other than 16
	return s.(string)
}

// eventHeaders returns a change event's own headers followed by the run's context headers, in a
// slice of its own: transforms may edit a record's headers in place.
func eventHeaders(run connect.Headers, own ...connect.Header) connect.Headers {
	if len(own)+len(run) == 0 {
		return nil
	}
	h := make(connect.Headers, 0, len(own)+len(run))
	h = append(h, own...)
	return append(h, run...)
}
