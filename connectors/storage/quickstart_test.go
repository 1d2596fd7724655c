package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro"
	"github.com/kconnect/kconnect/internal/testenv"
)

// TestE2EConfluentHDFS3Quickstart runs the connector configuration of Confluent's HDFS 3 sink
// quickstart unchanged apart from the URLs and topic: nine Avro records {f1: value1..value9}
// with flush.size=3 become three Avro files named by their offsets, read back with fastavro.
func TestE2EConfluentHDFS3Quickstart(t *testing.T) {
	registry := testenv.SchemaRegistry(t)
	w := startWorker(t)
	out := t.TempDir()
	topic := testenv.Topic(t, "test_hdfs")

	conv := avro.New()
	if err := conv.Configure(map[string]string{"schema.registry.url": registry}, false); err != nil {
		t.Fatal(err)
	}
	schema := connect.StructBuilder().Name("myrecord").Field("f1", connect.StringSchema).MustBuild()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(w.Bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 1; i <= 9; i++ {
		v, err := conv.FromConnectData(topic, schema, connect.NewStruct(schema).Set("f1", fmt.Sprintf("value%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	name := "hdfs3-sink-" + topic[len(topic)-8:]
	createConnector(t, w, name, map[string]string{
		"connector.class":                     "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
		"tasks.max":                           "1",
		"topics":                              topic,
		"hdfs.url":                            "file://" + out,
		"flush.size":                          "3",
		"key.converter":                       "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                     "io.confluent.connect.avro.AvroConverter",
		"value.converter.schema.registry.url": registry,
		"confluent.topic.bootstrap.servers":   w.Bootstrap,
		"confluent.topic.replication.factor":  "1",
	})
	waitCommitted(t, w, name, topic, 9)
	files := committedFiles(t, out)
	var names []string
	for _, f := range files {
		rel, _ := filepath.Rel(out, f)
		names = append(names, rel)
	}
	dir := "topics/" + topic + "/partition=0/"
	want := []string{dir + topic + "+0+0000000000+0000000002.avro", dir + topic + "+0+0000000003+0000000005.avro",
		dir + topic + "+0+0000000006+0000000008.avro"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	rows := dumpFiles(t, files)
	for i, f := range files {
		var got []string
		for _, r := range rows[f] {
			got = append(got, fmt.Sprint(r["f1"]))
		}
		if wantRows := []string{fmt.Sprintf("value%d", 3*i+1), fmt.Sprintf("value%d", 3*i+2), fmt.Sprintf("value%d", 3*i+3)}; !reflect.DeepEqual(got, wantRows) {
			t.Errorf("%s holds %v, want %v", names[i], got, wantRows)
		}
	}
}
