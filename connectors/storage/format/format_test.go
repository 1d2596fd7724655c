package format_test

import (
	"bytes"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/storage/format"
	"github.com/kconnect/kconnect/converters/avro/avrodata"
	"github.com/kconnect/kconnect/internal/testenv"
)

// dumped is what testdata/dump.py prints for one file.
type dumped struct {
	Rows []map[string]any `json:"rows"`
	Meta map[string]any   `json:"meta"`
}

func dump(t *testing.T, path string) dumped {
	t.Helper()
	py := testenv.StoragePython(t)
	out, err := exec.Command(py, "../testdata/dump.py", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dump.py %s: %v\n%s", path, err, out)
	}
	var d dumped
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("dump.py output %s: %v", out, err)
	}
	return d
}

var orderSchema = connect.StructBuilder().Name("shop.Order").Version(1).
	Field("id", connect.Int64Schema).
	Field("qty", connect.Int16Schema).
	Field("name", connect.OptionalStringSchema).
	Field("price", connect.DecimalSchema(2).MustBuild()).
	Field("day", connect.DateSchema().MustBuild()).
	Field("at", connect.TimeSchema().MustBuild()).
	Field("ts", connect.TimestampSchema().MustBuild()).
	Field("ok", connect.BooleanSchema).
	Field("ratio", connect.Float64Schema).
	MustBuild()

func orders() []connect.SinkRecord {
	var recs []connect.SinkRecord
	for i := range 3 {
		st := connect.NewStruct(orderSchema).
			Set("id", int64(100+i)).
			Set("qty", int16(i-1)).
			Set("price", connect.Decimal{Unscaled: big.NewInt(int64(-1050 + 1000*i)), Scale: 2}).
			Set("day", time.Date(2024, 2, 28+i, 0, 0, 0, 0, time.UTC)).
			Set("at", time.UnixMilli(int64(i)*3_600_000+1_234).UTC()).
			Set("ts", time.Date(2024, 3, 1, 12, 30, 0, 0, time.UTC).Add(time.Duration(i)*time.Millisecond)).
			Set("ok", i%2 == 0).
			Set("ratio", 0.5*float64(i))
		if i != 1 {
			st.Set("name", []string{"apple", "", "pear"}[i])
		}
		recs = append(recs, connect.SinkRecord{Record: connect.Record{Topic: "orders", Offset: int64(i), ValueSchema: orderSchema, Value: st}})
	}
	return recs
}

// wantOrders are the rows of orders(), derived by hand: 2024 is a leap year, so 28 Feb + 2 days
// is 1 March; the prices are -10.50, -0.50 and 9.50.
var wantOrders = []map[string]any{
	{"id": 100.0, "qty": -1.0, "name": "apple", "price": "-10.50", "day": "2024-02-28", "at": "00:00:01.234000",
		"ts": "2024-03-01T12:30:00.000Z", "ok": true, "ratio": 0.0},
	{"id": 101.0, "qty": 0.0, "name": nil, "price": "-0.50", "day": "2024-02-29", "at": "01:00:01.234000",
		"ts": "2024-03-01T12:30:00.001Z", "ok": false, "ratio": 0.5},
	{"id": 102.0, "qty": 1.0, "name": "pear", "price": "9.50", "day": "2024-03-01", "at": "02:00:01.234000",
		"ts": "2024-03-01T12:30:00.002Z", "ok": true, "ratio": 1.0},
}

func writeFile(t *testing.T, f format.Format, recs []connect.SinkRecord) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, recs[0].ValueSchema)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f"+f.Extension())
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func newFormat(t *testing.T, class string, o format.Options) format.Format {
	t.Helper()
	o.AvroData = avrodata.New(avrodata.DefaultConfig())
	f, err := format.New(class, o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAvroReadByFastavro(t *testing.T) {
	for _, codec := range []string{"null", "deflate", "snappy"} {
		t.Run(codec, func(t *testing.T) {
			f := newFormat(t, "io.confluent.connect.hdfs3.avro.AvroFormat", format.Options{AvroCodec: codec})
			d := dump(t, writeFile(t, f, orders()))
			if !reflect.DeepEqual(d.Rows, wantOrders) {
				t.Errorf("fastavro read\n%v\nwant\n%v", d.Rows, wantOrders)
			}
			if d.Meta["codec"] != codec {
				t.Errorf("codec %v, want %s", d.Meta["codec"], codec)
			}
			schema, _ := d.Meta["schema"].(map[string]any)
			if schema["name"] != "shop.Order" {
				t.Errorf("writer schema %v, want the record shop.Order", schema)
			}
		})
	}
}

func TestParquetReadByPyarrow(t *testing.T) {
	for _, c := range []struct{ codec, want string }{{"snappy", "SNAPPY"}, {"zstd", "ZSTD"}, {"none", "UNCOMPRESSED"}} {
		t.Run(c.codec, func(t *testing.T) {
			f := newFormat(t, "io.confluent.connect.s3.format.parquet.ParquetFormat", format.Options{ParquetCodec: c.codec})
			d := dump(t, writeFile(t, f, orders()))
			if !reflect.DeepEqual(d.Rows, wantOrders) {
				t.Errorf("pyarrow read\n%v\nwant\n%v", d.Rows, wantOrders)
			}
			wantTypes := map[string]any{"id": "int64", "qty": "int32", "name": "string", "price": "decimal256(64, 2)",
				"day": "date32[day]", "at": "time32[ms]", "ts": "timestamp[ms, tz=UTC]", "ok": "bool", "ratio": "double"}
			if !reflect.DeepEqual(d.Meta["types"], wantTypes) {
				t.Errorf("column types %v, want %v", d.Meta["types"], wantTypes)
			}
			if codecs := d.Meta["codecs"].([]any); len(codecs) != 1 || codecs[0] != c.want {
				t.Errorf("compression %v, want %s", codecs, c.want)
			}
		})
	}
}

func TestLineFormats(t *testing.T) {
	recs := []connect.SinkRecord{
		{Record: connect.Record{Topic: "t", Value: map[string]any{"a": int64(1)}}},
		{Record: connect.Record{Topic: "t", Value: "x"}},
	}
	f := newFormat(t, "io.confluent.connect.hdfs.json.JsonFormat", format.Options{})
	got, _ := os.ReadFile(writeFile(t, f, recs))
	if string(got) != "{\"a\":1}\n\"x\"\n" {
		t.Errorf("JSON file %q", got)
	}
	raw := []connect.SinkRecord{{Record: connect.Record{Value: []byte("ab")}}, {Record: connect.Record{Value: []byte("c")}}}
	f = newFormat(t, "io.confluent.connect.s3.format.bytearray.ByteArrayFormat",
		format.Options{ByteArraySeparator: []byte("|"), ByteArrayExtension: ".bin"})
	path := writeFile(t, f, raw)
	if got, _ := os.ReadFile(path); string(got) != "ab|c|" || filepath.Ext(path) != ".bin" {
		t.Errorf("ByteArray file %s: %q", path, got)
	}
	if _, err := format.New("io.confluent.connect.hdfs.avro.Nope", format.Options{}); err == nil {
		t.Error("unknown class accepted")
	}
}

func TestParquetArraysAndMapsReadByPyarrow(t *testing.T) {
	s := connect.StructBuilder().Name("Doc").
		Field("id", connect.Int32Schema).
		Field("tags", connect.ArrayBuilder(connect.OptionalStringSchema).Optional().MustBuild()).
		Field("attrs", connect.MapBuilder(connect.StringSchema, connect.Int64Schema).MustBuild()).
		MustBuild()
	values := []*connect.Struct{
		connect.NewStruct(s).Set("id", int32(1)).Set("tags", []any{"a", nil, "c"}).Set("attrs", map[string]any{"y": int64(2), "x": int64(1)}),
		connect.NewStruct(s).Set("id", int32(2)).Set("tags", []any{}).Set("attrs", map[string]any{}),
		connect.NewStruct(s).Set("id", int32(3)).Set("attrs", map[string]any{"z": int64(-5)}),
	}
	var recs []connect.SinkRecord
	for i, v := range values {
		recs = append(recs, connect.SinkRecord{Record: connect.Record{Topic: "docs", Offset: int64(i), ValueSchema: s, Value: v}})
	}
	f := newFormat(t, "io.confluent.connect.hdfs3.parquet.ParquetFormat", format.Options{ParquetCodec: "snappy"})
	d := dump(t, writeFile(t, f, recs))
	// pyarrow prints a map as a list of [key, value] pairs; keys come sorted.
	want := []map[string]any{
		{"id": 1.0, "tags": []any{"a", nil, "c"}, "attrs": []any{[]any{"x", 1.0}, []any{"y", 2.0}}},
		{"id": 2.0, "tags": []any{}, "attrs": []any{}},
		{"id": 3.0, "tags": nil, "attrs": []any{[]any{"z", -5.0}}},
	}
	if !reflect.DeepEqual(d.Rows, want) {
		t.Errorf("pyarrow read\n%v\nwant\n%v", d.Rows, want)
	}
	if ty := d.Meta["types"].(map[string]any); ty["tags"] != "list<element: string>" || !strings.HasPrefix(ty["attrs"].(string), "map<string, int64") {
		t.Errorf("column types %v", ty)
	}
}

// TestParquetRejectedRecordsLeaveNoTrace writes records over several of the writer's batches,
// with records in between that fail in their last column, and reads the file back with pyarrow:
// every accepted record is there, in order, and nothing of the rejected ones.
func TestParquetRejectedRecordsLeaveNoTrace(t *testing.T) {
	s := connect.StructBuilder().Name("Doc").
		Field("id", connect.Int32Schema).
		Field("name", connect.OptionalStringSchema).
		Field("tags", connect.ArrayBuilder(connect.OptionalStringSchema).MustBuild()).
		Field("attrs", connect.MapBuilder(connect.StringSchema, connect.Int64Schema).MustBuild()).
		MustBuild()
	f := newFormat(t, "io.confluent.connect.hdfs3.parquet.ParquetFormat", format.Options{ParquetCodec: "snappy"})
	var buf bytes.Buffer
	w, err := f.NewWriter(&buf, s)
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var want []map[string]any
	for i := range n {
		if i == 0 || i == 150 || i == 255 {
			// Columns come ordered by name, so tags is the last one written.
			bad := connect.NewStruct(s).Set("id", int32(-1)).Set("name", "bad").Set("tags", []any{int64(5)}).Set("attrs", map[string]any{"k": int64(-1)})
			if err := w.Write(&connect.SinkRecord{Record: connect.Record{Topic: "docs", ValueSchema: s, Value: bad}}); err == nil {
				t.Fatalf("a record with an int64 in a string list was accepted before record %d", i)
			}
		}
		st := connect.NewStruct(s).Set("id", int32(i)).Set("tags", []any{"a", nil}[:i%3]).Set("attrs", map[string]any{"k": int64(i)})
		row := map[string]any{"id": float64(i), "name": nil, "tags": []any{"a", nil}[:i%3], "attrs": []any{[]any{"k", float64(i)}}}
		if i%3 == 2 {
			st.Set("tags", []any{"a", nil})
		}
		if i%7 != 0 {
			st.Set("name", "n"+strconv.Itoa(i))
			row["name"] = "n" + strconv.Itoa(i)
		}
		if err := w.Write(&connect.SinkRecord{Record: connect.Record{Topic: "docs", Offset: int64(i), ValueSchema: s, Value: st}}); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		want = append(want, row)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := dump(t, path).Rows
	if len(got) != n {
		t.Fatalf("pyarrow read %d rows, want %d", len(got), n)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("row %d: pyarrow read %v, want %v", i, got[i], want[i])
		}
	}
}
