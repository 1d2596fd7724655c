package storage_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/converters/avro"
	"github.com/kconnect/kconnect/internal/testenv"
)

// produceQuickstart writes the quickstart's nine Avro records {f1: value1..value9} (schema
// registry serialised) to a new topic.
func produceQuickstart(t *testing.T, bootstrap, registry, topic string) {
	t.Helper()
	conv := avro.New()
	if err := conv.Configure(map[string]string{"schema.registry.url": registry}, false); err != nil {
		t.Fatal(err)
	}
	schema := connect.StructBuilder().Name("myrecord").Field("f1", connect.StringSchema).MustBuild()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
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
}

// checkQuickstartFiles fails unless the store holds exactly the files named, the i-th holding
// value3i+1..value3i+3, as fastavro reads them.
func checkQuickstartFiles(t *testing.T, tg *target, want []string) {
	t.Helper()
	files := tg.committed(t)
	if !reflect.DeepEqual(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	rows := tg.rows(t)
	for i, f := range files {
		var got []string
		for _, r := range rows[f] {
			got = append(got, fmt.Sprint(r["f1"]))
		}
		if wantRows := []string{fmt.Sprintf("value%d", 3*i+1), fmt.Sprintf("value%d", 3*i+2), fmt.Sprintf("value%d", 3*i+3)}; !reflect.DeepEqual(got, wantRows) {
			t.Errorf("%s holds %v, want %v", f, got, wantRows)
		}
	}
}

// TestE2EConfluentHDFS3Quickstart runs the connector configuration of Confluent's HDFS 3 sink
// quickstart (https://docs.confluent.io/kafka-connectors/hdfs3-sink/current/overview.html#quick-start)
// unchanged apart from the URL and topic, on a local directory and on HDFS: nine Avro records
// with flush.size=3 become three Avro files named by their offsets, read back with fastavro.
func TestE2EConfluentHDFS3Quickstart(t *testing.T) {
	for _, kind := range []string{"local", "hdfs"} {
		t.Run(kind, func(t *testing.T) {
			registry := testenv.SchemaRegistry(t)
			tg := newTarget(t, kind)
			w := startWorker(t)
			topic := testenv.Topic(t, "test_hdfs")
			produceQuickstart(t, w.Bootstrap, registry, topic)
			name := "hdfs3-sink-" + topic[len(topic)-8:]
			w.CreateConnector(name, map[string]string{
				"connector.class":                     "io.confluent.connect.hdfs3.Hdfs3SinkConnector",
				"tasks.max":                           "1",
				"topics":                              topic,
				"hdfs.url":                            tg.url,
				"flush.size":                          "3",
				"key.converter":                       "org.apache.kafka.connect.storage.StringConverter",
				"value.converter":                     "io.confluent.connect.avro.AvroConverter",
				"value.converter.schema.registry.url": registry,
				"confluent.topic.bootstrap.servers":   w.Bootstrap,
				"confluent.topic.replication.factor":  "1",
			})
			waitCommitted(t, w, name, topic, 9)
			dir := "topics/" + topic + "/partition=0/"
			checkQuickstartFiles(t, tg, []string{dir + topic + "+0+0000000000+0000000002.avro",
				dir + topic + "+0+0000000003+0000000005.avro", dir + topic + "+0+0000000006+0000000008.avro"})
		})
	}
}

// TestE2EConfluentS3Quickstart runs the connector configuration of Confluent's S3 sink quickstart
// (quickstart-s3.properties, https://docs.confluent.io/kafka-connectors/s3-sink/current/overview.html#quick-start)
// unchanged apart from the bucket, region, endpoint, credentials and topic: nine Avro records
// with flush.size=3 become three Avro objects named by their first offsets, read back with
// fastavro.
func TestE2EConfluentS3Quickstart(t *testing.T) {
	registry := testenv.SchemaRegistry(t)
	tg := newTarget(t, "s3")
	w := startWorker(t)
	topic := testenv.Topic(t, "s3_topic")
	produceQuickstart(t, w.Bootstrap, registry, topic)
	name := "s3-sink-" + topic[len(topic)-8:]
	config := map[string]string{
		"connector.class":      "io.confluent.connect.s3.S3SinkConnector",
		"tasks.max":            "1",
		"topics":               topic,
		"s3.part.size":         "5242880",
		"flush.size":           "3",
		"storage.class":        "io.confluent.connect.s3.storage.S3Storage",
		"format.class":         "io.confluent.connect.s3.format.avro.AvroFormat",
		"partitioner.class":    "io.confluent.connect.storage.partitioner.DefaultPartitioner",
		"schema.compatibility": "NONE",
		// The quickstart's worker runs the Avro converter with the schema registry.
		"key.converter":                       "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                     "io.confluent.connect.avro.AvroConverter",
		"value.converter.schema.registry.url": registry,
	}
	tg.point(config, "")
	w.CreateConnector(name, config)
	waitCommitted(t, w, name, topic, 9)
	dir := "topics/" + topic + "/partition=0/"
	checkQuickstartFiles(t, tg, []string{dir + topic + "+0+0000000000.avro", dir + topic + "+0+0000000003.avro",
		dir + topic + "+0+0000000006.avro"})
}
