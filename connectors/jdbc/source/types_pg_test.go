package source

import (
	"context"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// pgTypeCase is a column, the SQL literal stored in it, and the Connect schema and value
// expected from the mapping documented in TYPES.md.
type pgTypeCase struct {
	col, sqlType, literal string
	schema                *connect.Schema
	want                  any
	// pgText asks PostgreSQL for its text output of the column and expects exactly that string.
	pgText bool
}

// checkTypeCases checks each case's field schema and its value in withValues, and that the
// optional ones read NULL in withNulls.
func checkTypeCases(t *testing.T, cases []pgTypeCase, withValues, withNulls connect.SourceRecord) {
	t.Helper()
	schema := withValues.ValueSchema
	for _, c := range cases {
		f := schema.Field(c.col)
		if f == nil {
			t.Errorf("%s (%s): no field", c.col, c.sqlType)
			continue
		}
		if !f.Schema.Equal(c.schema) {
			t.Errorf("%s (%s): schema %s %v, want %s %v", c.col, c.sqlType, f.Schema, f.Schema.Parameters, c.schema, c.schema.Parameters)
		}
		got := field(withValues, c.col)
		if !connect.ValuesEqual(got, c.want) {
			t.Errorf("%s (%s): value %#v, want %#v", c.col, c.sqlType, got, c.want)
		}
		if err := connect.Validate(f.Schema, got); err != nil {
			t.Errorf("%s (%s): value does not validate: %v", c.col, c.sqlType, err)
		}
		if null := field(withNulls, c.col); c.schema.Optional && null != nil {
			t.Errorf("%s (%s): NULL read as %#v", c.col, c.sqlType, null)
		}
	}
}

func days(y int, m time.Month, d int) time.Time {
	return connect.DaysToDate(int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400))
}

func dec(unscaled string, scale int32) connect.Decimal {
	u, _ := new(big.Int).SetString(unscaled, 10)
	return connect.Decimal{Unscaled: u, Scale: scale}
}

func decSchema(scale int32, precision string) *connect.Schema {
	return connect.DecimalSchema(scale).Param(decimalPrecisionParam, precision).Optional().MustBuild()
}

func opt(t connect.Type) *connect.Schema { return connect.NewSchemaBuilder(t).Optional().MustBuild() }

func TestPostgresTypesMapToConnectSchemasAndValues(t *testing.T) {
	pg := newPG(t)
	pg.exec(t,
		`CREATE TYPE mood AS ENUM ('happy', 'sad')`,
		`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`)
	cases := []pgTypeCase{
		{col: "c_int2", sqlType: "smallint", literal: "-32768", schema: opt(connect.TypeInt16), want: int16(-32768)},
		{col: "c_int4", sqlType: "integer", literal: "2147483647", schema: opt(connect.TypeInt32), want: int32(2147483647)},
		{col: "c_int8", sqlType: "bigint", literal: "-9223372036854775808", schema: opt(connect.TypeInt64), want: int64(-9223372036854775808)},
		{col: "c_serial", sqlType: "serial NOT NULL", literal: "7", schema: connect.Int32Schema, want: int32(7)},
		{col: "c_oid", sqlType: "oid", literal: "4294967295", schema: opt(connect.TypeInt64), want: int64(4294967295)},
		{col: "c_domain", sqlType: "posint", literal: "42", schema: opt(connect.TypeInt32), want: int32(42)},
		{col: "c_num", sqlType: "numeric(10,2)", literal: "-12345678.91", schema: decSchema(2, "10"), want: dec("-1234567891", 2)},
		{col: "c_num_int", sqlType: "numeric(20,0)", literal: "12345678901234567890", schema: decSchema(0, "20"), want: dec("12345678901234567890", 0)},
		{col: "c_num_free", sqlType: "numeric", literal: "3.14159265358979323846264338327950288", schema: opt(connect.TypeString), want: "3.14159265358979323846264338327950288"},
		{col: "c_float4", sqlType: "real", literal: "1.5", schema: opt(connect.TypeFloat32), want: float32(1.5)},
		{col: "c_float8", sqlType: "double precision", literal: "-2.25e10", schema: opt(connect.TypeFloat64), want: -2.25e10},
		{col: "c_bool", sqlType: "boolean NOT NULL", literal: "true", schema: connect.BooleanSchema, want: true},
		{col: "c_text", sqlType: "text", literal: "'héllo, \"wörld\"'", schema: opt(connect.TypeString), want: `héllo, "wörld"`},
		{col: "c_varchar", sqlType: "varchar(10)", literal: "'abc'", schema: opt(connect.TypeString), want: "abc"},
		{col: "c_char", sqlType: "char(5)", literal: "'ab'", schema: opt(connect.TypeString), want: "ab   "},
		{col: "c_bytea", sqlType: "bytea", literal: `'\xdeadbeef00'`, schema: opt(connect.TypeBytes), want: []byte{0xde, 0xad, 0xbe, 0xef, 0}},
		{col: "c_date", sqlType: "date", literal: "'2024-02-29'", schema: connect.DateSchema().Optional().MustBuild(), want: days(2024, 2, 29)},
		{col: "c_date_old", sqlType: "date", literal: "'1969-12-31'", schema: connect.DateSchema().Optional().MustBuild(), want: days(1969, 12, 31)},
		{col: "c_time", sqlType: "time", literal: "'13:45:30.123456'", schema: connect.TimeSchema().Optional().MustBuild(), want: connect.MillisToTime(((13*60+45)*60+30)*1000 + 123)},
		{col: "c_timetz", sqlType: "timetz", literal: "'10:00:00+02'", schema: connect.TimeSchema().Optional().MustBuild(), want: connect.MillisToTime(8 * 3600 * 1000)},
		{col: "c_ts", sqlType: "timestamp", literal: "'2024-03-01 12:34:56.789123'", schema: connect.TimestampSchema().Optional().MustBuild(), want: time.Date(2024, 3, 1, 12, 34, 56, 789_000_000, time.UTC)},
		{col: "c_tstz", sqlType: "timestamptz", literal: "'2024-03-01 12:34:56.789+01'", schema: connect.TimestampSchema().Optional().MustBuild(), want: time.Date(2024, 3, 1, 11, 34, 56, 789_000_000, time.UTC)},
		{col: "c_uuid", sqlType: "uuid", literal: "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", schema: opt(connect.TypeString), want: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{col: "c_json", sqlType: "json", literal: `'{"a":  1}'`, schema: opt(connect.TypeString), want: `{"a":  1}`},
		{col: "c_jsonb", sqlType: "jsonb", literal: `'{"b":[1,2],"a":null}'`, schema: opt(connect.TypeString), pgText: true},
		{col: "c_enum", sqlType: "mood", literal: "'sad'", schema: opt(connect.TypeString), want: "sad"},
		{col: "c_interval", sqlType: "interval", literal: "'1 day 2 hours'", schema: opt(connect.TypeString), pgText: true},
		{col: "c_inet", sqlType: "inet", literal: "'192.168.0.1/24'", schema: opt(connect.TypeString), want: "192.168.0.1/24"},
		{col: "c_xml", sqlType: "xml", literal: "'<a>x</a>'", schema: opt(connect.TypeString), want: "<a>x</a>"},
		{col: "c_bit", sqlType: "bit(1)", literal: "B'1'", schema: opt(connect.TypeBoolean), want: true},
		{col: "c_varbit", sqlType: "bit varying(8)", literal: "B'101'", schema: opt(connect.TypeString), want: "101"},
		{col: "c_int_arr", sqlType: "integer[]", literal: "'{1,NULL,3}'", schema: connect.ArrayBuilder(opt(connect.TypeInt32)).Optional().MustBuild(), want: []any{int32(1), nil, int32(3)}},
		{col: "c_text_arr", sqlType: "text[]", literal: `'{a,"b c"}'`, schema: connect.ArrayBuilder(opt(connect.TypeString)).Optional().MustBuild(), want: []any{"a", "b c"}},
		{col: "c_enum_arr", sqlType: "mood[]", literal: "'{happy,sad}'", schema: connect.ArrayBuilder(opt(connect.TypeString)).Optional().MustBuild(), want: []any{"happy", "sad"}},
		{col: "c_num_arr", sqlType: "numeric(4,1)[]", literal: "'{1.5,-2.0}'", schema: connect.ArrayBuilder(decSchema(1, "4")).Optional().MustBuild(), want: []any{dec("15", 1), dec("-20", 1)}},
		{col: "c_ts_arr", sqlType: "timestamptz[]", literal: "'{\"2024-01-01 00:00:00+00\"}'", schema: connect.ArrayBuilder(connect.TimestampSchema().Optional().MustBuild()).Optional().MustBuild(), want: []any{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{col: "c_uuid_arr", sqlType: "uuid[]", literal: "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", schema: connect.ArrayBuilder(opt(connect.TypeString)).Optional().MustBuild(), want: []any{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
	}
	var defs, cols, lits []string
	for _, c := range cases {
		defs = append(defs, c.col+" "+c.sqlType)
		cols = append(cols, c.col)
		lits = append(lits, c.literal)
	}
	pg.exec(t, "CREATE TABLE all_types (id serial PRIMARY KEY, "+strings.Join(defs, ", ")+")",
		"INSERT INTO all_types ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(lits, ", ")+")",
		"INSERT INTO all_types (c_serial, c_bool) VALUES (8, false)")
	for i, c := range cases {
		if c.pgText {
			var s string
			if err := pg.conn.QueryRow(context.Background(), "SELECT "+c.col+"::text FROM all_types WHERE id = 1").Scan(&s); err != nil {
				t.Fatal(err)
			}
			cases[i].want = s
		}
	}

	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "incrementing",
		"incrementing.column.name", "id", "table.whitelist", "all_types", "topic.prefix", "x-"), 1)[0])
	recs := r.waitCount(2, 20*time.Second)
	checkJSONRoundTrip(t, recs[0])
	checkJSONRoundTrip(t, recs[1])
	schema := recs[0].ValueSchema
	if schema.Name != "all_types" || schema.Type != connect.TypeStruct {
		t.Fatalf("value schema %s named %q, want struct all_types", schema, schema.Name)
	}
	if f := schema.Field("id"); f == nil || !f.Schema.Equal(connect.Int32Schema) {
		t.Errorf("id field schema = %v, want required int32 (serial primary key)", f)
	}
	checkTypeCases(t, cases, recs[0], recs[1])
}

func TestPostgresTimestampWithoutZoneIsReadInDBTimezone(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE t (id serial PRIMARY KEY, local timestamp NOT NULL, d date NOT NULL)`,
		`INSERT INTO t (local, d) VALUES ('2024-01-15 10:00:00', '2024-07-01')`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "timestamp",
		"timestamp.column.name", "local", "table.whitelist", "t", "db.timezone", "America/New_York"), 1)[0])
	recs := r.waitCount(1, 20*time.Second)
	// New York is five hours behind UTC in January.
	if got, want := field(recs[0], "local"), time.Date(2024, 1, 15, 15, 0, 0, 0, time.UTC); !connect.ValuesEqual(got, want) {
		t.Errorf("local = %v, want %v", got, want)
	}
	// Dates are calendar days, independent of the zone.
	if got, want := field(recs[0], "d"), days(2024, 7, 1); !connect.ValuesEqual(got, want) {
		t.Errorf("d = %v, want %v", got, want)
	}
	want := map[string]any{"timestamp": time.Date(2024, 1, 15, 15, 0, 0, 0, time.UTC).UnixMilli(), "timestamp_nanos": int64(0)}
	if !connect.ValuesEqual(recs[0].SourceOffset, want) {
		t.Errorf("offset %v, want %v", recs[0].SourceOffset, want)
	}
}

func TestPostgresNumericMappingBestFit(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, `CREATE TABLE n (id serial PRIMARY KEY, small numeric(2,0), mid numeric(9,0), big numeric(18,0),
			huge numeric(20,0), frac numeric(10,3), wide numeric(30,5))`,
		`INSERT INTO n (small, mid, big, huge, frac, wide) VALUES (12, 123456789, 123456789012345678, 12345678901234567890, 1.25, 1.5)`)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "bulk",
		"table.whitelist", "n", "numeric.mapping", "best_fit"), 1)[0])
	rec := r.waitCount(1, 20*time.Second)[0]
	// Upstream's documented best_fit rules: integers by precision when the scale is 0, double when
	// the scale is positive, and Decimal when the precision exceeds what an int64 holds.
	want := map[string]any{"small": int8(12), "mid": int32(123456789), "big": int64(123456789012345678),
		"huge": dec("12345678901234567890", 0), "frac": 1.25, "wide": dec("150000", 5)}
	for col, w := range want {
		if got := field(rec, col); !connect.ValuesEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", col, got, w)
		}
	}
}

func TestPostgresUnconvertibleValueFailsTheTaskNamingTableColumnAndType(t *testing.T) {
	pg := newPG(t)
	pg.exec(t, "CREATE TABLE prices (id serial PRIMARY KEY, amount numeric(10,2))",
		"INSERT INTO prices (amount) VALUES (1.5), ('NaN')")
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", pg.dsn, "mode", "incrementing",
		"incrementing.column.name", "id", "table.whitelist", "prices"), 1)[0])
	err := r.waitErr(20 * time.Second)
	t.Logf("task error: %v", err)
	if !contains(err.Error(), "public.prices", "amount", "numeric", "NaN") {
		t.Fatalf("error %q does not name the table, column, type and value", err)
	}
	recs, _ := r.snapshot()
	for _, rec := range recs {
		if field(rec, "id") == int32(2) {
			t.Fatalf("the unconvertible row was emitted: %v", rec.Value)
		}
	}
}

// TestBinaryNumericDecoderMatchesPostgresText decodes numerics from the binary wire format and
// compares them with PostgreSQL's own text rendering of the same values.
func TestBinaryNumericDecoderMatchesPostgresText(t *testing.T) {
	pg := newPG(t)
	literals := []string{"0", "1", "-1", "0.5", "-0.0001", "12345678.91", "9999.9999", "10000", "100000000",
		"9223372036854775807", "9223372036854775808", "-9223372036854775809", "123456789012345678901234567890.123456789",
		"0.000000000000000000001", "1e20", "1.50", "-12.3400", "NaN", "Infinity", "-Infinity", "42::numeric(10,4)", "7::numeric(5,-2)"}
	for i := range 200 {
		literals = append(literals, fmt.Sprintf("%d.%d", (i*7919)%100000-50000, i*104729))
	}
	ctx := context.Background()
	for _, lit := range literals {
		expr := lit
		if !strings.Contains(lit, "::") {
			expr = "'" + lit + "'::numeric"
		}
		rows, err := pg.conn.Query(ctx, "SELECT "+expr+", ("+expr+")::text")
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatalf("%s: no row", lit)
		}
		raw := append([]byte(nil), rows.RawValues()[0]...)
		text := string(rows.RawValues()[1])
		rows.Close()
		n, err := decodePgNumeric(raw)
		if err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		if got := n.text(); got != text {
			t.Errorf("%s: decoded %s, PostgreSQL renders %s", lit, got, text)
		}
	}
}
