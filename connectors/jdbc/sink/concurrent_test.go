package sink

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connect/connecttest"
)

// TestConcurrentTasksCreateAndEvolveOneTable starts the tasks of one connector on a fresh
// database at the same moment (as the worker starts tasks.max tasks) and has each write its first
// record to the same missing table at once, then a record with a new field at once. Every task
// must succeed however the CREATE TABLE and ALTER TABLE statements of the others interleave with
// its own: each task owns different partitions, so none of them may fail for the others' DDL.
func TestConcurrentTasksCreateAndEvolveOneTable(t *testing.T) {
	const tasks, rounds = 6, 5
	evolved := connect.StructBuilder().Name("test.Value").
		Field("id", connect.Int32Schema).
		Field("name", connect.OptionalStringSchema).
		Field("qty", connect.OptionalInt64Schema).
		Field("extra", connect.OptionalStringSchema).MustBuild()
	eachDB(t, func(t *testing.T, db *testDB) {
		for round := range rounds {
			table := fmt.Sprintf("race_%d", round)
			props := db.props("auto.create", "true", "auto.evolve", "true", "table.name.format", table,
				"insert.mode", "upsert", "pk.mode", "record_key")
			name := "race-" + table
			// Start the tasks concurrently too: each creates the offsets table on the fresh database.
			started := make([]*Task, tasks)
			var wg sync.WaitGroup
			errs := make([]error, tasks)
			for i := range tasks {
				ctx := connecttest.New(t)
				ctx.Name = name
				started[i] = &Task{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = started[i].Start(ctx, props)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: task %d Start: %v", round, i, err)
				}
				t.Cleanup(func() { started[i].Stop() })
			}
			putAll := func(build func(i int) connect.SinkRecord) {
				t.Helper()
				gate := make(chan struct{})
				for i := range tasks {
					wg.Add(1)
					go func() {
						defer wg.Done()
						rec := build(i)
						<-gate
						errs[i] = deliver(context.Background(), started[i], []connect.SinkRecord{rec})
					}()
				}
				close(gate)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("round %d: task %d Put: %v", round, i, err)
					}
				}
			}
			putAll(func(i int) connect.SinkRecord {
				return connect.SinkRecord{Record: connect.Record{Topic: "race", Partition: int32(i), Offset: 0,
					KeySchema: idKeySchema, Key: idKey(t, int32(i)), ValueSchema: rowSchema, Value: row(t, int32(i), "first", int64(i))}}
			})
			putAll(func(i int) connect.SinkRecord {
				return connect.SinkRecord{Record: connect.Record{Topic: "race", Partition: int32(i), Offset: 1,
					KeySchema: idKeySchema, Key: idKey(t, int32(i)), ValueSchema: evolved,
					Value: mustStruct(t, evolved, "id", int32(i), "name", "second", "qty", int64(i), "extra", fmt.Sprint("x", i))}}
			})
			got := db.table(t, table, "id", "name", "extra")
			var want [][]string
			for i := range tasks {
				want = append(want, []string{fmt.Sprint(i), "second", fmt.Sprint("x", i)})
			}
			wantRows(t, got, want...)
			offs := db.offsets(t, name)
			for i := range tasks {
				if o := offs[connect.TopicPartition{Topic: "race", Partition: int32(i)}]; o != 2 {
					t.Fatalf("round %d: stored offset of partition %d is %d, want 2", round, i, o)
				}
			}
		}
	})
}
