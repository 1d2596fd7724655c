package testenv

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// A private MariaDB keeps its data across a restart, refuses connections while stopped, and has
// the binlog settings the CDC and sink tests rely on.
func TestMySQLServerStopsAndStarts(t *testing.T) {
	t.Parallel()
	s := NewMySQLServer(t)
	db := s.Open("")
	ctx, cancel := context.WithTimeout(t.Context(), smokeTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE kept; CREATE TABLE kept.t (id int); INSERT INTO kept.t VALUES (1)"); err != nil {
		t.Fatalf("on the started server: %v", err)
	}
	var name, format string
	if err := db.QueryRowContext(ctx, "SHOW VARIABLES LIKE 'binlog_format'").Scan(&name, &format); err != nil || format != "ROW" {
		t.Fatalf("binlog_format = %q (%v), want ROW", format, err)
	}
	s.Stop()
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("connected to the stopped server")
	}
	s.Start()
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM kept.t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("after a restart: %d rows (%v), want 1\n%s", n, err, s.Log())
	}
}

// A private Kafka keeps its records across a kill -9 and serves again after a restart.
func TestKafkaServerSurvivesKill(t *testing.T) {
	t.Parallel()
	s := NewKafkaServer(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Addr()), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("kept"),
		kgo.ConsumeTopics("kept"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*smokeTimeout)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("before the kill")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	s.Kill()
	s.Start()
	fs := cl.PollFetches(ctx)
	if err := fs.Err0(); err != nil {
		t.Fatalf("consume after the restart: %v\n%s", err, s.Log())
	}
	if recs := fs.Records(); len(recs) != 1 || string(recs[0].Value) != "before the kill" {
		t.Fatalf("after the restart the topic holds %d records, want the one produced before the kill", len(recs))
	}
}
