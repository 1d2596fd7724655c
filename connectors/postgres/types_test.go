package postgres

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

// typeCase is one column: its SQL type, a literal, and the schema and value Debezium's data type
// mapping documentation gives for it under the default modes.
type typeCase struct {
	col, sqlType, literal string
	schemaType            connect.Type
	schemaName            string
	want                  any
}

func typeCases() []typeCase {
	return []typeCase{
		{"c_bool", "boolean", "true", connect.TypeBoolean, "", true},
		{"c_bit1", "bit(1)", "B'1'", connect.TypeBoolean, "", true},
		// Bits: little-endian bytes, the rightmost bit is bit 0.
		{"c_bits", "bit(10)", "B'1000000101'", connect.TypeBytes, "io.debezium.data.Bits", []byte{0x05, 0x02}},
		{"c_int2", "smallint", "-32768", connect.TypeInt16, "", int16(-32768)},
		{"c_int4", "integer", "2147483647", connect.TypeInt32, "", int32(2147483647)},
		{"c_int8", "bigint", "-9223372036854775808", connect.TypeInt64, "", int64(-9223372036854775808)},
		{"c_oid", "oid", "4294967295", connect.TypeInt64, "", int64(4294967295)},
		{"c_real", "real", "1.5", connect.TypeFloat32, "", float32(1.5)},
		{"c_double", "double precision", "3.141592653589793", connect.TypeFloat64, "", 3.141592653589793},
		{"c_char", "char(5)", "'ab'", connect.TypeString, "", "ab   "},
		{"c_varchar", "varchar(20)", "'héllo'", connect.TypeString, "", "héllo"},
		{"c_text", "text", "'multi\nline \"quoted\"'", connect.TypeString, "", "multi\nline \"quoted\""},
		// TIMESTAMPTZ: ISO-8601 in UTC, as io.debezium.time.ZonedTimestamp.
		{"c_tstz", "timestamptz", "'2018-06-20 15:13:16.945104+02'", connect.TypeString, "io.debezium.time.ZonedTimestamp", "2018-06-20T13:13:16.945104Z"},
		{"c_timetz", "timetz", "'15:13:16.5+02'", connect.TypeString, "io.debezium.time.ZonedTime", "13:13:16.5Z"},
		// The documented example: TIMESTAMP '2018-06-20 15:13:16.945104' is MicroTimestamp 1529507596945104.
		{"c_ts", "timestamp", "'2018-06-20 15:13:16.945104'", connect.TypeInt64, "io.debezium.time.MicroTimestamp", int64(1529507596945104)},
		{"c_ts3", "timestamp(3)", "'2018-06-20 15:13:16.945'", connect.TypeInt64, "io.debezium.time.Timestamp", int64(1529507596945)},
		{"c_date", "date", "'2018-06-20'", connect.TypeInt32, "io.debezium.time.Date", int32(17702)},
		{"c_time", "time", "'15:13:16.945104'", connect.TypeInt64, "io.debezium.time.MicroTime", int64(54796945104)},
		{"c_time3", "time(3)", "'15:13:16.945'", connect.TypeInt32, "io.debezium.time.Time", int32(54796945)},
		// INTERVAL: microseconds with a month of 365.25/12 days.
		{"c_interval", "interval", "'1 year 2 months 3 days 04:05:06.78'", connect.TypeInt64, "io.debezium.time.MicroDuration",
			int64((((14*365.25/12+3)*24+4)*60+5)*60*1e6 + 6.78e6)},
		{"c_bytea", "bytea", `'\x00ff10'`, connect.TypeBytes, "", []byte{0x00, 0xff, 0x10}},
		{"c_json", "json", `'{"a": 1}'`, connect.TypeString, "io.debezium.data.Json", `{"a": 1}`},
		{"c_jsonb", "jsonb", `'{"a": 1}'`, connect.TypeString, "io.debezium.data.Json", `{"a": 1}`},
		{"c_xml", "xml", `'<a>1</a>'`, connect.TypeString, "io.debezium.data.Xml", `<a>1</a>`},
		{"c_uuid", "uuid", `'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'`, connect.TypeString, "io.debezium.data.Uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"c_inet", "inet", `'192.168.0.1/24'`, connect.TypeString, "", "192.168.0.1/24"},
		{"c_int4range", "int4range", `'[1,5)'`, connect.TypeString, "", "[1,5)"},
		{"c_enum", "mood", `'happy'`, connect.TypeString, "io.debezium.data.Enum", "happy"},
		{"c_intarr", "integer[]", `'{1,NULL,3}'`, connect.TypeArray, "", []any{int32(1), nil, int32(3)}},
		{"c_textarr", "text[]", `'{"a b","c,d",NULL}'`, connect.TypeArray, "", []any{"a b", "c,d", nil}},
		// NUMERIC(p,s): Connect Decimal with the scale and Debezium's precision parameter.
		{"c_numeric", "numeric(10,3)", "-12.345", connect.TypeBytes, connect.DecimalName, connect.Decimal{Unscaled: big.NewInt(-12345), Scale: 3}},
	}
}

func TestTypeMappings(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')`)
	cases := typeCases()
	cols := []string{"id int PRIMARY KEY", "c_varnum numeric"}
	names := []string{"id", "c_varnum"}
	lits := []string{"1", "123.4500"}
	for _, c := range cases {
		cols = append(cols, c.col+" "+c.sqlType)
		names = append(names, c.col)
		lits = append(lits, c.literal)
	}
	pg.exec("CREATE TABLE alltypes (" + strings.Join(cols, ", ") + ")")
	insert := "INSERT INTO alltypes (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(lits, ", ") + ")"
	pg.exec(insert)
	task := startTask(t, connecttest.New(t), props(t, pg.dsn))
	snap := pollFor(t, task, 1, isData, 30*time.Second)
	pg.exec(strings.Replace(insert, "VALUES (1,", "VALUES (2,", 1))
	streamed := pollFor(t, task, 1, isData, 30*time.Second)

	// The snapshot reads rows with SELECT, streaming decodes pgoutput: both must agree.
	for _, rec := range []struct {
		name string
		ev   *connect.Struct
	}{{"snapshot", env(t, snap[0])}, {"streaming", env(t, streamed[0])}} {
		after := field(t, rec.ev, "after").(*connect.Struct)
		if err := after.Validate(); err != nil {
			t.Errorf("%s: row does not match its schema: %v", rec.name, err)
		}
		for _, c := range cases {
			f := after.Schema().Field(c.col)
			if f == nil {
				t.Errorf("%s: column %s missing from the value schema", rec.name, c.col)
				continue
			}
			if f.Schema.Type != c.schemaType || f.Schema.Name != c.schemaName || !f.Schema.Optional {
				t.Errorf("%s: %s (%s) schema = %s %q optional=%v, want %s %q", rec.name, c.col, c.sqlType, f.Schema.Type, f.Schema.Name, f.Schema.Optional, c.schemaType, c.schemaName)
			}
			if got := after.Get(c.col); !connect.ValuesEqual(got, c.want) {
				t.Errorf("%s: %s (%s) = %#v, want %#v", rec.name, c.col, c.sqlType, got, c.want)
			}
		}
		enum := after.Schema().Field("c_enum").Schema
		if v, _ := enum.Parameters.Get("allowed"); v != "sad,ok,happy" {
			t.Errorf("enum allowed = %q, want the labels in sort order", v)
		}
		num := after.Schema().Field("c_numeric").Schema
		if s, _ := num.Parameters.Get("scale"); s != "3" {
			t.Errorf("numeric scale parameter = %q", s)
		}
		if p, _ := num.Parameters.Get("connect.decimal.precision"); p != "10" {
			t.Errorf("numeric precision parameter = %q", p)
		}
		bits := after.Schema().Field("c_bits").Schema
		if l, _ := bits.Parameters.Get("length"); l != "10" {
			t.Errorf("bits length parameter = %q", l)
		}
		// NUMERIC without scale: io.debezium.data.VariableScaleDecimal {scale, value}.
		vsd := after.Get("c_varnum").(*connect.Struct)
		if vsd.Schema().Name != "io.debezium.data.VariableScaleDecimal" || !reflect.DeepEqual(fieldNames(vsd.Schema()), []string{"scale", "value"}) {
			t.Errorf("variable numeric schema = %v", vsd.Schema())
		}
		if vsd.Get("scale") != int32(4) || !connect.ValuesEqual(vsd.Get("value"), connect.DecimalToBytes(connect.Decimal{Unscaled: big.NewInt(1234500)})) {
			t.Errorf("variable numeric = %v", vsd)
		}
	}
}

func TestToastedUnchangedColumnPlaceholder(t *testing.T) {
	pg := newPG(t)
	pg.exec(`CREATE TABLE docs (id int PRIMARY KEY, body text, n int)`)
	// Random text does not compress, so 20 kB of it is stored out of line (TOASTed).
	pg.exec(`INSERT INTO docs SELECT 1, string_agg(md5(random()::text), '') FROM generate_series(1, 640)`)
	task := startTask(t, connecttest.New(t), props(t, pg.dsn, "snapshot.mode", "no_data", "unavailable.value.placeholder", "__kc_toast"))
	waitForSlot(t, pg, props(t, pg.dsn)["slot.name"])
	pg.exec(`UPDATE docs SET n = 1 WHERE id = 1`)
	recs := pollFor(t, task, 1, isData, 30*time.Second)
	if got := field(t, env(t, recs[0]), "after", "body"); got != "__kc_toast" {
		t.Errorf("unchanged toasted column = %.40v, want the placeholder", got)
	}
	if got := field(t, env(t, recs[0]), "after", "n"); got != int32(1) {
		t.Errorf("n = %v", got)
	}
}
