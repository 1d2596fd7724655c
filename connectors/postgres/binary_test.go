package postgres

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
)

// The snapshot reads the columns with a binary decoder in PostgreSQL's binary format and everything
// else, and the stream, in text format. The text decoders are checked against Debezium's documented
// values (TestTypeMappings); here both formats of the same stored values, edge cases included, must
// decode to the same Connect values under every mode that changes the mapping.
func TestBinaryAndTextDecodersAgree(t *testing.T) {
	pg := newPG(t)
	cols := []struct{ name, typ string }{
		{"c_bool", "boolean"}, {"c_int2", "smallint"}, {"c_int4", "integer"}, {"c_int8", "bigint"}, {"c_oid", "oid"},
		{"c_real", "real"}, {"c_double", "double precision"}, {"c_uuid", "uuid"}, {"c_bytea", "bytea"},
		{"c_date", "date"}, {"c_time", "time"}, {"c_time3", "time(3)"},
		{"c_ts", "timestamp"}, {"c_ts3", "timestamp(3)"}, {"c_ts0", "timestamp(0)"},
		{"c_tstz", "timestamptz"}, {"c_tstz3", "timestamptz(3)"}, {"c_tstz0", "timestamptz(0)"},
		{"c_num", "numeric"}, {"c_num10_3", "numeric(10,3)"}, {"c_num38", "numeric(38,0)"}, {"c_num5_5", "numeric(5,5)"},
		{"c_dom", "posint"},
	}
	rows := [][]string{
		{"true", "-32768", "-2147483648", "-9223372036854775808", "0",
			"'NaN'", "'-Infinity'", "'00000000-0000-0000-0000-000000000000'", `'\x'`,
			"'4713-01-01 BC'", "'00:00:00'", "'00:00:00'",
			"'4713-01-01 00:00:00 BC'", "'1969-12-31 23:59:59.999'", "'0001-01-01 00:00:00'",
			"'4713-01-01 00:00:00+00 BC'", "'1969-12-31 23:59:59.999+00'", "'1999-12-31 23:59:59+05:30'",
			"'NaN'", "-9999999.999", "-99999999999999999999999999999999999999", "-0.99999",
			"1"},
		{"false", "32767", "2147483647", "9223372036854775807", "4294967295",
			"'Infinity'", "'NaN'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", `'\x00ff10'`,
			"'5874897-12-31'", "'24:00:00'", "'23:59:59.999'",
			"'294276-12-31 23:59:59.999999'", "'2000-01-01 00:00:00'", "'2000-01-01 00:00:01'",
			"'294276-12-31 23:59:59.999999+00'", "'2000-01-01 00:00:00.001+00'", "'2038-01-19 03:14:08-01'",
			"'Infinity'", "9999999.999", "99999999999999999999999999999999999999", "0.00001",
			"2147483647"},
		{"true", "0", "0", "0", "1",
			"1.17549435e-38", "2.2250738585072014e-308", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", `'\xdeadbeef'`,
			"'infinity'", "'12:34:56.789012'", "'12:34:56.789'",
			"'infinity'", "'infinity'", "'infinity'",
			"'infinity'", "'infinity'", "'infinity'",
			"'-Infinity'", "0", "0", "0",
			"42"},
		{"false", "-1", "-1", "-1", "2147483648",
			"-0.0", "3.141592653589793", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", `'\x0001'`,
			"'-infinity'", "'23:59:59.999999'", "'00:00:00.001'",
			"'-infinity'", "'-infinity'", "'-infinity'",
			"'-infinity'", "'-infinity'", "'-infinity'",
			"0.000000000000000000000000000000000000000000000001", "0.5", "1", "0.5",
			"7"},
		{"true", "1", "1", "1", "3",
			"3.4028235e38", "1e308", "'01234567-89ab-cdef-0123-456789abcdef'", `'\x5c78'`,
			"'2000-01-01'", "'00:00:00.000001'", "'00:00:01'",
			"'2000-01-01 00:00:00.000001'", "'1900-02-28 12:00:00.5'", "'1900-02-28 12:00:00'",
			"'2000-01-01 00:00:00.000001+00'", "'1900-02-28 12:00:00.5+00'", "'1900-02-28 12:00:00+00'",
			"-123456789012345678901234567890.123456789012345678900", "-0.001", "12345678901234567890", "0.1",
			"100"},
		{"false", "2", "2", "2", "4",
			"-1e-45", "-5e-324", "'6ba7b810-9dad-11d1-80b4-00c04fd430c8'", `'\xffffffffffffffffffffffffffffffffff'`,
			"'1970-01-01'", "'12:00:00'", "'12:00:00.5'",
			"'1970-01-01 00:00:00'", "'1970-01-01 00:00:00.001'", "'1970-01-01 00:00:00'",
			"'1970-01-01 00:00:00+00'", "'1970-01-01 00:00:00+14'", "'1970-01-01 00:00:00-12'",
			"10000", "0.001", "10000000000000000000000000000000000000", "0.00000",
			"3"},
		{"true", "3", "3", "3", "5",
			"NULL", "NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL",
			"1e100", "NULL", "NULL", "NULL",
			"NULL"},
		{"true", "4", "4", "4", "6",
			"0", "0", "NULL", "NULL",
			"NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL",
			"-0.0000000001000000", "12.5", "-1", "-0.00001",
			"NULL"},
	}
	pg.exec(`CREATE DOMAIN posint AS integer CHECK (VALUE > 0)`)
	defs := []string{"id serial PRIMARY KEY"}
	names := make([]string, len(cols))
	for i, c := range cols {
		defs = append(defs, c.name+" "+c.typ)
		names[i] = c.name
	}
	pg.exec("CREATE TABLE edge (" + strings.Join(defs, ", ") + ")")
	for _, r := range rows {
		if len(r) != len(cols) {
			t.Fatalf("test row has %d values for %d columns", len(r), len(cols))
		}
		pg.exec("INSERT INTO edge (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(r, ", ") + ")")
	}

	modes := [][]string{
		nil,
		{"time.precision.mode", "connect"},
		{"time.precision.mode", "microseconds", "binary.handling.mode", "hex"},
		{"time.precision.mode", "adaptive_time_microseconds", "binary.handling.mode", "base64"},
	}
	for _, mode := range modes {
		t.Run(strings.Join(mode, "="), func(t *testing.T) {
			cfg, err := parseConfig(props(t, pg.dsn, mode...))
			if err != nil {
				t.Fatal(err)
			}
			cat := newCatalog(cfg)
			defer cat.close()
			ctx := context.Background()
			tm := &typeMapper{cfg: cfg, types: cat.typeInfo(ctx)}
			infos, err := cat.tables(ctx, cfg.filter, "")
			if err != nil || len(infos) != 1 {
				t.Fatalf("tables: %v %v", infos, err)
			}
			colDefs, err := cat.columns(ctx, infos[0].oid)
			if err != nil {
				t.Fatal(err)
			}
			table, err := buildTable(cfg, tm, infos[0].schema, infos[0].name, colDefs)
			if err != nil {
				t.Fatal(err)
			}
			binary := resultFormats(table)
			for i, c := range table.cols {
				if c.name != "id" && binary[i] != pgx.BinaryFormatCode {
					t.Errorf("column %s (%s) is not read in binary format", c.name, cols[i-1].typ)
				}
			}
			text := readRows(t, pg.conn, table, make([]int16, len(table.cols)))
			bin := readRows(t, pg.conn, table, binary)
			if len(text) != len(rows) || len(bin) != len(rows) {
				t.Fatalf("read %d text and %d binary rows, want %d", len(text), len(bin), len(rows))
			}
			for r := range rows {
				for _, f := range table.valueSchema.Fields {
					tv, bv := text[r].GetAt(f.Index), bin[r].GetAt(f.Index)
					if !sameValue(tv, bv) {
						t.Errorf("row %d column %s: binary %#v, text %#v", r+1, f.Name, bv, tv)
					}
				}
			}
		})
	}
}

// readRows selects every row of t in the given result formats and decodes them with rowValues.
func readRows(t *testing.T, conn *pgx.Conn, table *tableSchema, formats []int16) []*connect.Struct {
	t.Helper()
	sql := selectChunk(table, chunk{from: 0, to: -1}) + " ORDER BY id"
	rr := conn.PgConn().ExecParams(context.Background(), sql, nil, nil, nil, formats)
	var out []*connect.Struct
	for rr.NextRow() {
		var cells []cell
		for i, v := range rr.Values() {
			switch {
			case v == nil:
				cells = append(cells, cell{kind: 'n'})
			case formats[i] == pgx.BinaryFormatCode:
				cells = append(cells, cell{kind: 'b', data: v})
			default:
				cells = append(cells, cell{kind: 't', data: v})
			}
		}
		value, _, err := table.rowValues(cells)
		if err != nil {
			rr.Close()
			t.Fatalf("decode row %d: %v", len(out)+1, err)
		}
		out = append(out, value)
	}
	if _, err := rr.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sameValue is connect.ValuesEqual with floats compared bit for bit, so -0 does not equal 0, except
// that any NaN equals any other (their payloads carry no meaning).
func sameValue(a, b any) bool {
	switch av := a.(type) {
	case float32:
		bv, ok := b.(float32)
		return ok && (math.Float32bits(av) == math.Float32bits(bv) || av != av && bv != bv)
	case float64:
		bv, ok := b.(float64)
		return ok && (math.Float64bits(av) == math.Float64bits(bv) || math.IsNaN(av) && math.IsNaN(bv))
	case *connect.Struct:
		bv, ok := b.(*connect.Struct)
		return ok && fmt.Sprint(av) == fmt.Sprint(bv) && av.Equal(bv)
	}
	return connect.ValuesEqual(a, b)
}

func TestBinaryNumericRejectsMalformed(t *testing.T) {
	for _, b := range [][]byte{
		{0, 1},                               // short header
		{0, 1, 0, 0, 0x12, 0x34, 0, 0, 0},    // unknown sign word
		{0, 2, 0, 0, 0, 0, 0, 0, 0, 1},       // two digits announced, one sent
		{0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}, // digit 10000 is not base 10000
	} {
		if _, _, err := binNumeric(b); err == nil {
			t.Errorf("binNumeric(% x) accepted a malformed value", b)
		}
	}
}
