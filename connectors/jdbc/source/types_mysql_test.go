package source

import (
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

func TestMySQLTypesMapToConnectSchemasAndValues(t *testing.T) {
	my := newMy(t)
	cases := []pgTypeCase{
		{col: "c_tiny", sqlType: "tinyint", literal: "-128", schema: opt(connect.TypeInt8), want: int8(-128)},
		{col: "c_tiny_u", sqlType: "tinyint unsigned", literal: "255", schema: opt(connect.TypeInt16), want: int16(255)},
		{col: "c_bool", sqlType: "boolean NOT NULL", literal: "true", schema: connect.Int8Schema, want: int8(1)},
		{col: "c_small", sqlType: "smallint", literal: "-32768", schema: opt(connect.TypeInt16), want: int16(-32768)},
		{col: "c_small_u", sqlType: "smallint unsigned", literal: "65535", schema: opt(connect.TypeInt32), want: int32(65535)},
		{col: "c_medium", sqlType: "mediumint", literal: "-8388608", schema: opt(connect.TypeInt32), want: int32(-8388608)},
		{col: "c_medium_u", sqlType: "mediumint unsigned", literal: "16777215", schema: opt(connect.TypeInt64), want: int64(16777215)},
		{col: "c_int", sqlType: "int", literal: "2147483647", schema: opt(connect.TypeInt32), want: int32(2147483647)},
		{col: "c_int_u", sqlType: "int unsigned", literal: "4294967295", schema: opt(connect.TypeInt64), want: int64(4294967295)},
		{col: "c_big", sqlType: "bigint", literal: "-9223372036854775808", schema: opt(connect.TypeInt64), want: int64(-9223372036854775808)},
		{col: "c_big_u", sqlType: "bigint unsigned", literal: "9223372036854775807", schema: opt(connect.TypeInt64), want: int64(9223372036854775807)},
		{col: "c_dec", sqlType: "decimal(10,2)", literal: "-12345678.91", schema: decSchema(2, "10"), want: dec("-1234567891", 2)},
		{col: "c_dec0", sqlType: "decimal(20,0)", literal: "12345678901234567890", schema: decSchema(0, "20"), want: dec("12345678901234567890", 0)},
		{col: "c_float", sqlType: "float", literal: "1.5", schema: opt(connect.TypeFloat32), want: float32(1.5)},
		{col: "c_double", sqlType: "double", literal: "-2.25e10", schema: opt(connect.TypeFloat64), want: -2.25e10},
		{col: "c_bit1", sqlType: "bit(1)", literal: "b'1'", schema: opt(connect.TypeInt8), want: int8(1)},
		{col: "c_bit16", sqlType: "bit(16)", literal: "b'0000000100000010'", schema: opt(connect.TypeBytes), want: []byte{1, 2}},
		{col: "c_char", sqlType: "char(5)", literal: "'ab'", schema: opt(connect.TypeString), want: "ab"},
		{col: "c_varchar", sqlType: "varchar(20)", literal: "'héllo'", schema: opt(connect.TypeString), want: "héllo"},
		{col: "c_varchar_empty", sqlType: "varchar(20)", literal: "''", schema: opt(connect.TypeString), want: ""},
		{col: "c_text", sqlType: "text", literal: "'long text'", schema: opt(connect.TypeString), want: "long text"},
		{col: "c_enum", sqlType: "enum('small','large')", literal: "'large'", schema: opt(connect.TypeString), want: "large"},
		{col: "c_set", sqlType: "set('x','y','z')", literal: "'x,z'", schema: opt(connect.TypeString), want: "x,z"},
		{col: "c_json", sqlType: "json", literal: `'{"a": [1, 2]}'`, schema: opt(connect.TypeString), want: `{"a": [1, 2]}`},
		{col: "c_binary", sqlType: "binary(4)", literal: "x'0102'", schema: opt(connect.TypeBytes), want: []byte{1, 2, 0, 0}},
		{col: "c_varbinary", sqlType: "varbinary(8)", literal: "x'deadbeef'", schema: opt(connect.TypeBytes), want: []byte{0xde, 0xad, 0xbe, 0xef}},
		{col: "c_blob", sqlType: "blob", literal: "x''", schema: opt(connect.TypeBytes), want: []byte{}},
		{col: "c_date", sqlType: "date", literal: "'2024-02-29'", schema: connect.DateSchema().Optional().MustBuild(), want: days(2024, 2, 29)},
		{col: "c_year", sqlType: "year", literal: "2024", schema: connect.DateSchema().Optional().MustBuild(), want: days(2024, 1, 1)},
		{col: "c_time", sqlType: "time(3)", literal: "'13:45:30.123'", schema: connect.TimeSchema().Optional().MustBuild(), want: connect.MillisToTime(((13*60+45)*60+30)*1000 + 123)},
		{col: "c_datetime", sqlType: "datetime(6)", literal: "'2024-03-01 12:34:56.789123'", schema: connect.TimestampSchema().Optional().MustBuild(), want: time.Date(2024, 3, 1, 12, 34, 56, 789_000_000, time.UTC)},
		// The writing session's zone is +01:00, so the stored instant is 11:34:56 UTC.
		{col: "c_timestamp", sqlType: "timestamp(3) NULL", literal: "'2024-03-01 12:34:56.789'", schema: connect.TimestampSchema().Optional().MustBuild(), want: time.Date(2024, 3, 1, 11, 34, 56, 789_000_000, time.UTC)},
	}
	var defs, cols, lits []string
	for _, c := range cases {
		defs = append(defs, c.col+" "+c.sqlType)
		cols = append(cols, c.col)
		lits = append(lits, c.literal)
	}
	my.exec(t, "CREATE TABLE all_types (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, "+strings.Join(defs, ", ")+")")
	conn, err := my.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{"SET time_zone = '+01:00'",
		"INSERT INTO all_types (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(lits, ", ") + ")",
		"INSERT INTO all_types (c_bool) VALUES (false)"} {
		if _, err := conn.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}

	url, user, pw := my.jdbcURL(t)
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", url, "connection.user", user, "connection.password", pw,
		"mode", "incrementing", "incrementing.column.name", "id", "table.whitelist", "all_types", "topic.prefix", "x-"), 1)[0])
	recs := r.waitCount(2, 20*time.Second)
	checkJSONRoundTrip(t, recs[0])
	checkJSONRoundTrip(t, recs[1])
	schema := recs[0].ValueSchema
	if schema.Name != "all_types" {
		t.Fatalf("value schema named %q, want all_types", schema.Name)
	}
	checkTypeCases(t, cases, recs[0], recs[1])
}

func TestMySQLUnconvertibleValueFailsTheTaskNamingTableColumnAndType(t *testing.T) {
	my := newMy(t)
	my.exec(t, "CREATE TABLE big (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, counter bigint unsigned)",
		"INSERT INTO big (counter) VALUES (18446744073709551615)")
	r := startRunner(t, quietContext(t), taskProps(t, props("connection.url", my.dsn, "mode", "incrementing",
		"incrementing.column.name", "id", "table.whitelist", "big"), 1)[0])
	err := r.waitErr(20 * time.Second)
	t.Logf("task error: %v", err)
	if !contains(err.Error(), ".big", "counter", "UNSIGNED BIGINT", "18446744073709551615") {
		t.Fatalf("error %q does not name the table, column, type and value", err)
	}
}
