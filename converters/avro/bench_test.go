package avro

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// benchEnvelope is a CDC change event shaped like the PostgreSQL source's: a row of 25 columns
// (about 1 KB as JSON payload) in a Debezium envelope.
func benchEnvelope() (*connect.Schema, *connect.Struct) {
	rb := connect.StructBuilder().Name("bench.public.customers.Value").Optional().
		Field("id", connect.Int64Schema).
		Field("version", connect.Int32Schema).
		Field("first_name", connect.StringSchema).
		Field("last_name", connect.StringSchema).
		Field("email", connect.OptionalStringSchema).
		Field("active", connect.BooleanSchema).
		Field("score", connect.Float64Schema).
		Field("balance", connect.DecimalSchema(2).Optional().MustBuild()).
		Field("created_at", connect.TimestampSchema().MustBuild()).
		Field("birthday", connect.DateSchema().Optional().MustBuild()).
		Field("tags", connect.ArrayBuilder(connect.StringSchema).Optional().MustBuild()).
		Field("notes", connect.OptionalStringSchema)
	for i := range 10 {
		rb.Field(fmt.Sprintf("attr_%d", i), connect.OptionalStringSchema)
	}
	rowS := rb.MustBuild()
	source := connect.StructBuilder().Name("io.debezium.connector.postgresql.Source").
		Field("version", connect.StringSchema).Field("connector", connect.StringSchema).
		Field("name", connect.StringSchema).Field("ts_ms", connect.Int64Schema).
		Field("db", connect.StringSchema).Field("schema", connect.StringSchema).
		Field("table", connect.StringSchema).Field("txId", connect.OptionalInt64Schema).
		Field("lsn", connect.OptionalInt64Schema).MustBuild()
	env := connect.StructBuilder().Name("bench.public.customers.Envelope").Version(2).
		Field("before", rowS).Field("after", rowS).Field("source", source).
		Field("op", connect.StringSchema).Field("ts_ms", connect.OptionalInt64Schema).MustBuild()
	row := connect.NewStruct(rowS).
		Set("id", int64(1234567890)).Set("version", int32(7)).Set("first_name", "Grace").
		Set("last_name", "Hopper").Set("email", "grace.hopper@example.com").Set("active", true).
		Set("score", 98.6).Set("balance", dec("12345.67")).
		Set("created_at", time.UnixMilli(1712345678901).UTC()).
		Set("birthday", time.UnixMilli(-23*365*86400000).UTC()).
		Set("tags", []any{"vip", "compiler", "cobol", "navy"}).
		Set("notes", "Said \"It's easier to ask forgiveness than it is to get permission.\"")
	for i := range 10 {
		row.Set(fmt.Sprintf("attr_%d", i), strings.Repeat(string(rune('a'+i)), 40))
	}
	src := connect.NewStruct(source).Set("version", "3.0.0").Set("connector", "postgresql").
		Set("name", "bench").Set("ts_ms", int64(1712345678000)).Set("db", "bench").
		Set("schema", "public").Set("table", "customers").Set("txId", int64(777)).Set("lsn", int64(123456789))
	return env, connect.NewStruct(env).Set("after", row).Set("source", src).Set("op", "c").Set("ts_ms", int64(1712345678999))
}

func benchConverters(b *testing.B) map[string]connect.Converter {
	reg := fake(b)
	j := jsonconverter.New()
	if err := j.Configure(map[string]string{}, false); err != nil {
		b.Fatal(err)
	}
	return map[string]connect.Converter{
		"json_schemas": j,
		"avro":         configured(b, map[string]string{SchemaRegistryURLConfig: reg.URL()}, false),
	}
}

// BenchmarkFromConnectData compares writing a CDC event with the Avro converter and with the JSON
// converter with schemas, in the same run: compare the sub-benchmarks' ns/op.
func BenchmarkFromConnectData(b *testing.B) {
	s, v := benchEnvelope()
	for _, name := range []string{"json_schemas", "avro"} {
		b.Run(name, func(b *testing.B) {
			c := benchConverters(b)[name]
			out, err := c.FromConnectData("customers", s, v)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.FromConnectData("customers", s, v); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out)), "bytes/record")
		})
	}
}

// BenchmarkToConnectData compares reading the same event back.
func BenchmarkToConnectData(b *testing.B) {
	s, v := benchEnvelope()
	for _, name := range []string{"json_schemas", "avro"} {
		b.Run(name, func(b *testing.B) {
			c := benchConverters(b)[name]
			data, err := c.FromConnectData("customers", s, v)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.ToConnectData("customers", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
