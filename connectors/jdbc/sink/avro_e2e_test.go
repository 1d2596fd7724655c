package sink_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// pythonOrder is a plain Avro schema as a Python or Java producer writes it: no connect.*
// properties, Avro logical types, a nullable union, an enum.
const pythonOrder = `{"type":"record","name":"Order","namespace":"com.example.shop","fields":[
 {"name":"id","type":"long"},
 {"name":"customer","type":"string"},
 {"name":"email","type":["null","string"],"default":null},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":12,"scale":2}},
 {"name":"placed","type":{"type":"long","logicalType":"timestamp-millis"}},
 {"name":"due","type":{"type":"int","logicalType":"date"}},
 {"name":"status","type":{"type":"enum","name":"Status","symbols":["NEW","PAID","SHIPPED"]}},
 {"name":"paid","type":"boolean"},
 {"name":"weight","type":"double"}]}`

// TestE2EAvroFromPythonProducer writes records with Python's confluent-kafka AvroSerializer (a
// producer outside Connect) and has the JDBC sink, reading them with the AvroConverter, insert them
// into MariaDB with their decimals, timestamps, dates, enums and nulls intact.
func TestE2EAvroFromPythonProducer(t *testing.T) {
	registry := testenv.SchemaRegistry(t)
	python := testenv.AvroPython(t)
	db := e2eMySQL(t)
	dir := t.TempDir()
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	topic := testenv.Topic(t, "orders")

	const n = 50
	schemaFile := filepath.Join(dir, "order.avsc")
	if err := os.WriteFile(schemaFile, []byte(pythonOrder), 0o600); err != nil {
		t.Fatal(err)
	}
	var in strings.Builder
	for i := range n {
		email := "null"
		if i%3 != 0 {
			email = fmt.Sprintf(`"c%d@example.com"`, i)
		}
		fmt.Fprintf(&in, `{"id": %d, "customer": "customer %d", "email": %s, "amount": {"$decimal": "%d.%02d"}, `+
			`"placed": {"$timestamp": "2024-03-01T12:00:00.%03d+00:00"}, "due": {"$date": "2024-03-%02d"}, `+
			`"status": "%s", "paid": %v, "weight": %d.5}`+"\n",
			i, i, email, i*100, i, i, 1+i%28, []string{"NEW", "PAID", "SHIPPED"}[i%3], i%2 == 0, i)
	}
	cmd := exec.Command(python, "../../../converters/avro/testdata/interop.py", "write", registry, topic, schemaFile)
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Python producer: %v\n%s", err, stderr.String())
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(w.Bootstrap, ",")...), kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, line := range strings.Fields(string(out)) {
		value, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}

	cfg := map[string]string{
		"connector.class":                     "io.confluent.connect.jdbc.JdbcSinkConnector",
		"topics":                              topic,
		"connection.url":                      db.url,
		"connection.user":                     db.user,
		"connection.password":                 db.pass,
		"table.name.format":                   "orders",
		"insert.mode":                         "upsert",
		"pk.mode":                             "record_value",
		"pk.fields":                           "id",
		"auto.create":                         "true",
		"key.converter":                       "org.apache.kafka.connect.storage.StringConverter",
		"value.converter":                     "io.confluent.connect.avro.AvroConverter",
		"value.converter.schema.registry.url": registry,
	}
	w.CreateConnector("orders-sink", cfg)
	w.WaitFor(60*time.Second, fmt.Sprintf("%d rows in orders", n), func() bool {
		w.FailIfFailed("orders-sink")
		return db.count(t, "orders") == n
	})
	var customer, email, amount, placed, due, status, paid, weight string
	err = db.each("SELECT `customer`, COALESCE(`email`, 'NULL'), CAST(`amount` AS CHAR), "+
		"DATE_FORMAT(`placed`, '%Y-%m-%d %H:%i:%s.%f'), DATE_FORMAT(`due`, '%Y-%m-%d'), `status`, "+
		"CAST(`paid` AS CHAR), CAST(`weight` AS CHAR) FROM `orders` WHERE `id` = 7",
		func(scan func(...any) error) error {
			return scan(&customer, &email, &amount, &placed, &due, &status, &paid, &weight)
		})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join([]string{customer, email, amount, placed, due, status, paid, weight}, " | ")
	want := "customer 7 | c7@example.com | 700.07 | 2024-03-01 12:00:00.007000 | 2024-03-08 | PAID | 0 | 7.5"
	if got != want {
		t.Errorf("row 7:\n got %s\nwant %s", got, want)
	}
	var nulls int64
	if err := db.scalar("SELECT COUNT(*) FROM `orders` WHERE `email` IS NULL", &nulls); err != nil {
		t.Fatal(err)
	}
	if nulls != 17 {
		t.Errorf("%d rows with a NULL email, want 17", nulls)
	}
}
