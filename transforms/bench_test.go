package transforms_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/jsonconverter"
)

// benchRecord is a sink record whose value is a struct of 20 fields that JsonConverter writes as
// about 1 KB (schema included).
func benchRecord(b *testing.B) *connect.Record {
	sb := connect.StructBuilder().Name("com.example.Order")
	for i := 0; i < 8; i++ {
		sb.Field(fmt.Sprintf("s%d", i), connect.OptionalStringSchema)
	}
	for i := 0; i < 8; i++ {
		sb.Field(fmt.Sprintf("n%d", i), connect.Int64Schema)
	}
	sb.Field("amount", connect.OptionalFloat64Schema).Field("flag", connect.BooleanSchema).
		Field("id", connect.Int64Schema).Field("note", connect.OptionalStringSchema)
	schema := sb.MustBuild()
	v := connect.NewStruct(schema)
	for i := 0; i < 8; i++ {
		v.Set(fmt.Sprintf("s%d", i), strings.Repeat("x", 40))
		v.Set(fmt.Sprintf("n%d", i), int64(i*1000003))
	}
	v.Set("amount", 12.5).Set("flag", true).Set("id", int64(42)).Set("note", "private")
	rec := &connect.Record{Topic: "shop.public.orders", Partition: 3, Offset: 1234, ValueSchema: schema, Value: v,
		Timestamp: time.UnixMilli(1700000000123)}
	out, err := jsonconverter.New().FromConnectData(rec.Topic, schema, v)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(out)), "json-bytes")
	return rec
}

// BenchmarkChain runs a five-transform chain (InsertField, ReplaceField, Cast, ValueToKey,
// RegexRouter) over one record; compare with BenchmarkJSONConversion of the same record.
func BenchmarkChain(b *testing.B) {
	reg := goldenPlugins(b)
	var chain []connect.Transformation
	for _, c := range []struct {
		class string
		props map[string]string
	}{
		{"InsertField$Value", map[string]string{"topic.field": "kafka_topic", "offset.field": "kafka_offset", "timestamp.field": "kafka_ts"}},
		{"ReplaceField$Value", map[string]string{"exclude": "note", "renames": "s0:first,s1:second"}},
		{"Cast$Value", map[string]string{"spec": "amount:string,n0:int32"}},
		{"ValueToKey", map[string]string{"fields": "id"}},
		{"RegexRouter", map[string]string{"regex": `([^.]+)\.([^.]+)\.([^.]+)`, "replacement": "$3"}},
	} {
		p, err := reg.Lookup(c.class, connect.PluginTransformation)
		if err != nil {
			b.Fatal(err)
		}
		tr := p.New().(connect.Transformation)
		if err := tr.Configure(c.props); err != nil {
			b.Fatal(err)
		}
		chain = append(chain, tr)
	}
	rec := benchRecord(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := rec
		for _, tr := range chain {
			var err error
			if r, err = tr.Apply(r); err != nil {
				b.Fatal(err)
			}
		}
		if r.Topic != "orders" {
			b.Fatalf("topic %s", r.Topic)
		}
	}
}

// BenchmarkJSONConversion is the baseline: writing the same record's value with JsonConverter.
func BenchmarkJSONConversion(b *testing.B) {
	rec := benchRecord(b)
	conv := jsonconverter.New()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := conv.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value); err != nil {
			b.Fatal(err)
		}
	}
}
