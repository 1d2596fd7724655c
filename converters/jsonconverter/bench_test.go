package jsonconverter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// benchRecord returns a struct record shaped like a database row (about 1 KB of JSON payload)
// and a schemaless map of about the same size.
func benchRecord() (*connect.Schema, *connect.Struct, map[string]any) {
	address := connect.StructBuilder().Name("com.example.Address").Optional().
		Field("street", connect.StringSchema).
		Field("city", connect.StringSchema).
		Field("zip", connect.OptionalStringSchema).
		MustBuild()
	b := connect.StructBuilder().Name("com.example.Customer").Version(1).
		Field("id", connect.Int64Schema).
		Field("version", connect.Int32Schema).
		Field("first_name", connect.StringSchema).
		Field("last_name", connect.StringSchema).
		Field("email", connect.OptionalStringSchema).
		Field("active", connect.BooleanSchema).
		Field("score", connect.Float64Schema).
		Field("ratio", connect.OptionalFloat32Schema).
		Field("balance", connect.DecimalSchema(2).MustBuild()).
		Field("created_at", connect.TimestampSchema().MustBuild()).
		Field("birthday", connect.DateSchema().Optional().MustBuild()).
		Field("address", address).
		Field("tags", connect.ArrayBuilder(connect.StringSchema).MustBuild()).
		Field("notes", connect.OptionalStringSchema).
		Field("deleted", connect.OptionalBooleanSchema)
	for i := range 10 {
		b.Field(fmt.Sprintf("attr_%d", i), connect.OptionalStringSchema)
	}
	s := b.MustBuild()
	st := connect.NewStruct(s).
		Set("id", int64(1234567890)).
		Set("version", int32(7)).
		Set("first_name", "Grace").
		Set("last_name", "Hopper").
		Set("email", "grace.hopper@example.com").
		Set("active", true).
		Set("score", 98.6).
		Set("ratio", float32(0.25)).
		Set("balance", dec("12345.67")).
		Set("created_at", millis(1712345678901)).
		Set("birthday", millis(-23*365*86400000)).
		Set("address", connect.NewStruct(address).Set("street", "1 Navy Way").Set("city", "Arlington").Set("zip", "22202")).
		Set("tags", []any{"vip", "compiler", "cobol", "navy"}).
		Set("notes", "Said \"It's easier to ask forgiveness than it is to get permission.\"")
	for i := range 10 {
		st.Set(fmt.Sprintf("attr_%d", i), strings.Repeat(string(rune('a'+i)), 40))
	}
	m := map[string]any{
		"id": int64(1234567890), "version": int64(7), "first_name": "Grace", "last_name": "Hopper",
		"email": "grace.hopper@example.com", "active": true, "score": 98.6, "ratio": 0.25,
		"balance": 12345.67, "created_at": int64(1712345678901), "birthday": nil,
		"address": map[string]any{"street": "1 Navy Way", "city": "Arlington", "zip": "22202"},
		"tags":    []any{"vip", "compiler", "cobol", "navy"},
		"notes":   "Said \"It's easier to ask forgiveness than it is to get permission.\"",
	}
	for i := range 10 {
		m[fmt.Sprintf("attr_%d", i)] = strings.Repeat(string(rune('a'+i)), 40)
	}
	return s, st, m
}

func BenchmarkFromConnectData(b *testing.B) {
	s, st, m := benchRecord()
	run := func(name string, cfg map[string]string, schema *connect.Schema, value any) {
		b.Run(name, func(b *testing.B) {
			c := configured(b, cfg)
			out, err := c.FromConnectData("topic", schema, value)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.FromConnectData("topic", schema, value); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(out)), "bytes/record")
		})
	}
	run("struct_1KB_noschema", cfgNoSchemas, s, st)
	run("struct_1KB_envelope", cfgDefault, s, st)
	run("map_1KB_schemaless", cfgNoSchemas, nil, m)
}

func BenchmarkToConnectData(b *testing.B) {
	s, st, m := benchRecord()
	run := func(name string, cfg map[string]string, schema *connect.Schema, value any) {
		b.Run(name, func(b *testing.B) {
			c := configured(b, cfg)
			data, err := c.FromConnectData("topic", schema, value)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.ToConnectData("topic", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("struct_1KB_envelope", cfgDefault, s, st)
	run("map_1KB_schemaless", cfgNoSchemas, nil, m)
}
