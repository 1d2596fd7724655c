package sink

import (
	"math/big"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// TestConfluentColumnTypes pins the column types auto.create and auto.evolve use when the
// connector is configured as Confluent's io.confluent.connect.jdbc.JdbcSinkConnector. Confluent's
// sink is not on Maven Central, so the expected values are read off its source
// (confluentinc/kafka-connect-jdbc, src/main/java/io/confluent/connect/jdbc/dialect/):
// PostgreSqlDatabaseDialect.getSqlType and MySqlDatabaseDialect.getSqlType, which fall back to
// GenericDatabaseDialect.getSqlType, which has no mapping and fails.
func TestConfluentColumnTypes(t *testing.T) {
	decimal := connect.DecimalSchema(2).Param(decimalPrecisionParam, "10").MustBuild()
	cases := []struct {
		name     string
		schema   *connect.Schema
		key      bool
		postgres string
		mysql    string // "" when Confluent's MySQL dialect has no mapping
	}{
		{"int8", connect.Int8Schema, false, "SMALLINT", "TINYINT"},
		{"int16", connect.Int16Schema, false, "SMALLINT", "SMALLINT"},
		{"int32", connect.Int32Schema, false, "INT", "INT"},
		{"int64", connect.Int64Schema, false, "BIGINT", "BIGINT"},
		{"float32", connect.Float32Schema, false, "REAL", "FLOAT"},
		{"float64", connect.Float64Schema, false, "DOUBLE PRECISION", "DOUBLE"},
		{"boolean", connect.BooleanSchema, false, "BOOLEAN", "TINYINT"},
		{"string", connect.StringSchema, false, "TEXT", "TEXT"},
		// Confluent's TEXT key fails on MySQL ("BLOB/TEXT column used in key specification
		// without a key length"); kconnect's VARCHAR(255) is its one deliberate difference.
		{"string key", connect.StringSchema, true, "TEXT", "VARCHAR(255)"},
		{"bytes", connect.BytesSchema, false, "BYTEA", "VARBINARY(1024)"},
		{"bytes key", connect.BytesSchema, true, "BYTEA", "VARBINARY(1024)"},
		// Both ignore the precision parameter: PostgreSQL's DECIMAL is unconstrained, MySQL's
		// takes its largest precision, 65, and the schema's scale.
		{"Decimal", decimal, false, "DECIMAL", "DECIMAL(65,2)"},
		{"Date", connect.DateSchema().MustBuild(), false, "DATE", "DATE"},
		{"Time", connect.TimeSchema().MustBuild(), false, "TIME", "TIME(3)"},
		{"Timestamp", connect.TimestampSchema().MustBuild(), false, "TIMESTAMP", "DATETIME(3)"},
		// PostgreSQL's dialect types an array as its element's type followed by [].
		{"array of int32", connect.ArrayBuilder(connect.Int32Schema).MustBuild(), false, "INT[]", ""},
		{"array of string", connect.ArrayBuilder(connect.StringSchema).MustBuild(), false, "TEXT[]", ""},
		{"array of float64", connect.ArrayBuilder(connect.Float64Schema).MustBuild(), false, "DOUBLE PRECISION[]", ""},
	}
	pgCfg, err := parseConfig(map[string]string{"connector.class": confluentClass, "connection.url": pgURL})
	if err != nil {
		t.Fatal(err)
	}
	myCfg, err := parseConfig(map[string]string{"connector.class": confluentClass, "connection.url": "jdbc:mysql://db.example:3306/shop"})
	if err != nil {
		t.Fatal(err)
	}
	dialects := []struct {
		name string
		d    dialect
		want func(i int) string
	}{
		{"postgres", newPostgres(pgCfg), func(i int) string { return cases[i].postgres }},
		{"mysql", newMySQL(myCfg), func(i int) string { return cases[i].mysql }},
	}
	for i, c := range cases {
		kind, err := kindOf(c.schema, false)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		col := &column{name: "c", schema: c.schema, kind: kind, key: c.key}
		for _, d := range dialects {
			got, err := d.d.sqlType(col)
			want := d.want(i)
			switch {
			case want == "" && err == nil:
				t.Errorf("%s on %s: got %s, want an error (Confluent has no mapping)", c.name, d.name, got)
			case want != "" && (err != nil || got != want):
				t.Errorf("%s on %s: got %q (%v), want %q", c.name, d.name, got, err, want)
			}
		}
	}
}

// TestVariableScaleDecimalExact checks kconnect's own column for Debezium's VariableScaleDecimal
// under Confluent's class, whose sink rejects the struct: an exact decimal, where Debezium's
// class (TestAutoCreateMatchesDebeziumJDBCSink) follows Debezium's sink into a double.
func TestVariableScaleDecimalExact(t *testing.T) {
	vsd := connect.StructBuilder().Name(dbzVarDecimal).Optional().
		Field("scale", connect.Int32Schema).Field("value", connect.BytesSchema).MustBuild()
	s := connect.StructBuilder().Field("id", connect.Int32Schema).Field("n", vsd).MustBuild()
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "table.name.format", "vsd"))
		rb := newRecords()
		// 12345678901234567890.123456789 does not fit a double.
		u, _ := new(big.Int).SetString("12345678901234567890123456789", 10)
		n := mustStruct(t, vsd, "scale", int32(9), "value", connect.DecimalToBytes(connect.Decimal{Unscaled: u, Scale: 9}))
		put(t, task, rb.rec("v", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "n", n)))
		want := map[string][]string{
			"postgres": {"numeric null", "12345678901234567890.123456789"},
			"mysql":    {"decimal(65,30) null", "12345678901234567890.123456789000000000000000000000"},
		}[db.kind]
		if typ := db.columnTypes(t, "vsd")["n"]; typ != want[0] {
			t.Errorf("n is %s, want %s", typ, want[0])
		}
		wantRows(t, db.table(t, "vsd", "n"), want[1:])
	})
}
