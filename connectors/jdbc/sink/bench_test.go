package sink

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/testenv"
)

// benchSchema is an 8-column row like the bench/jdbcsink scenario's.
var (
	benchKey   = connect.StructBuilder().Name("bench.Key").Field("id", connect.Int64Schema).MustBuild()
	benchValue = connect.StructBuilder().Name("bench.Value").
			Field("id", connect.Int64Schema).
			Field("name", connect.StringSchema).
			Field("email", connect.StringSchema).
			Field("qty", connect.Int32Schema).
			Field("price", connect.Float64Schema).
			Field("score", connect.Float64Schema).
			Field("active", connect.BooleanSchema).
			Field("created", connect.TimestampSchema().MustBuild()).MustBuild()
)

func benchRecords(first int64, n int, offset int64) []connect.SinkRecord {
	recs := make([]connect.SinkRecord, n)
	for i := range recs {
		id := first + int64(i)
		v := connect.NewStruct(benchValue).Set("id", id).Set("name", "name-"+strconv.FormatInt(id, 10)).
			Set("email", "user"+strconv.FormatInt(id, 10)+"@example.com").Set("qty", int32(id%1000)).
			Set("price", float64(id%10000)/100).Set("score", float64(id)*0.5).Set("active", id%2 == 0).
			Set("created", time.UnixMilli(1_700_000_000_000+id).UTC())
		recs[i] = connect.SinkRecord{Record: connect.Record{Topic: "bench", Offset: offset + int64(i),
			KeySchema: benchKey, Key: connect.NewStruct(benchKey).Set("id", id), ValueSchema: benchValue, Value: v}}
	}
	return recs
}

// BenchmarkPostgresWritePaths compares, per batch size, COPY into a staging table plus one
// INSERT … ON CONFLICT with one pipelined INSERT … ON CONFLICT per row, each batch in its own
// transaction with the offsets; it is how pgCopyMinRows was chosen.
//
//	go test ./connectors/jdbc/sink -run '^$' -bench PostgresWritePaths
func BenchmarkPostgresWritePaths(b *testing.B) {
	dsn := testenv.PostgresDSN(b)
	run := 0
	for _, size := range []int{16, 64, 128, 256, 1024, 8192} {
		for _, path := range []string{"copy", "pipeline"} {
			b.Run(path+"/"+strconv.Itoa(size), func(b *testing.B) {
				saved := pgCopyMinRows
				defer func() { pgCopyMinRows = saved }()
				if path == "copy" {
					pgCopyMinRows = 0
				} else {
					pgCopyMinRows = math.MaxInt
				}
				// The benchmark function runs several times with growing b.N; each run gets its own
				// table and connector so no run finds its records already written.
				run++
				table := path + "_" + strconv.Itoa(size) + "_" + strconv.Itoa(run)
				task, _ := startTask(b, table, map[string]string{"connector.class": confluentClass, "connection.url": dsn,
					"pk.mode": "record_key", "insert.mode": "upsert", "auto.create": "true", "table.name.format": table})
				next := int64(0)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					recs := benchRecords(next, size, next)
					next += int64(size)
					b.StartTimer()
					if err := deliver(context.Background(), task, recs); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
