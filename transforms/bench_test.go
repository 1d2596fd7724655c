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
// about 1.3 KB with its schema.
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
		v.Set(fmt.Sprintf("s%d", i), strings.Repeat("x", 12))
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

// benchChain is the five-transform chain of the benchmarks: InsertField, ReplaceField, Cast,
// ValueToKey, RegexRouter.
func benchChain(b *testing.B) []connect.Transformation {
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
	return chain
}

func applyChain(b *testing.B, chain []connect.Transformation, rec *connect.Record) {
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

// BenchmarkChain runs the chain over one record; compare with BenchmarkJSONConversion of the same
// record, or see BenchmarkChainPerJSON for the ratio measured in one run.
func BenchmarkChain(b *testing.B) {
	chain, rec := benchChain(b), benchRecord(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		applyChain(b, chain, rec)
	}
}

// BenchmarkChainPerJSON alternates the chain and the JSON conversion of the record, in batches,
// and reports the chain's time as a fraction of the conversion's: on a shared machine load drifts
// between two benchmarks run one after the other, but not between neighbouring batches.
func BenchmarkChainPerJSON(b *testing.B) {
	chain, rec := benchChain(b), benchRecord(b)
	conv := jsonconverter.New()
	const batch = 100
	var inChain, inJSON time.Duration
	for done := 0; done < b.N; done += batch {
		start := time.Now()
		for range batch {
			applyChain(b, chain, rec)
		}
		mid := time.Now()
		for range batch {
			if _, err := conv.FromConnectData(rec.Topic, rec.ValueSchema, rec.Value); err != nil {
				b.Fatal(err)
			}
		}
		inChain, inJSON = inChain+mid.Sub(start), inJSON+time.Since(mid)
	}
	b.ReportMetric(float64(inChain)/float64(inJSON), "chain/json")
	b.ReportMetric(float64(inChain.Nanoseconds())/float64(b.N), "chain-ns/record")
	b.ReportMetric(float64(inJSON.Nanoseconds())/float64(b.N), "json-ns/record")
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
