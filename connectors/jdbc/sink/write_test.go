package sink

import (
	"context"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// TestAutoCreateTypes checks the documented type mapping: the column types auto.create picks
// (upstream's per-dialect choices, MySQL strings and bytes widened as documented) and that values
// of every type read back as the database renders them.
func TestAutoCreateTypes(t *testing.T) {
	dec := connect.DecimalSchema(2).Optional().MustBuild()
	s := connect.StructBuilder().Name("types").
		Field("k", connect.StringSchema).
		Field("i8", connect.Int8Schema).
		Field("i16", connect.Int16Schema).
		Field("i32", connect.Int32Schema).
		Field("i64", connect.Int64Schema).
		Field("f32", connect.Float32Schema).
		Field("f64", connect.Float64Schema).
		Field("b", connect.BooleanSchema).
		Field("s", connect.OptionalStringSchema).
		Field("raw", connect.OptionalBytesSchema).
		Field("dec", dec).
		Field("d", connect.DateSchema().Optional().MustBuild()).
		Field("tm", connect.TimeSchema().Optional().MustBuild()).
		Field("ts", connect.TimestampSchema().Optional().MustBuild()).
		MustBuild()
	key := connect.StructBuilder().Field("k", connect.StringSchema).MustBuild()
	d, _ := connect.ParseDecimal("123.45")
	ts := time.Date(2024, 2, 29, 13, 14, 15, 123e6, time.UTC)
	v := mustStruct(t, s, "k", "a", "i8", int8(5), "i16", int16(-300), "i32", int32(70000), "i64", int64(1)<<40,
		"f32", float32(1.5), "f64", 2.25, "b", true, "s", "héllo", "raw", []byte{1, 2, 0xff}, "dec", d,
		"d", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "tm", time.Date(1970, 1, 1, 13, 14, 15, 123e6, time.UTC), "ts", ts)
	nulls := mustStruct(t, s, "k", "b", "i8", int8(0), "i16", int16(0), "i32", int32(0), "i64", int64(0),
		"f32", float32(0), "f64", 0.0, "b", false)

	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert"))
		rb := newRecords()
		put(t, task, rb.rec("types", 0, key, mustStruct(t, key, "k", "a"), s, v), rb.rec("types", 0, key, mustStruct(t, key, "k", "b"), s, nulls))

		want := map[string]string{
			"postgres": "b=boolean d=date null dec=numeric null f32=real f64=double precision i16=smallint i32=integer " +
				"i64=bigint i8=smallint k=text raw=bytea null s=text null tm=time without time zone null " +
				"ts=timestamp without time zone null",
			// Confluent's MySqlDatabaseDialect.getSqlType, except the key: its TEXT cannot be one.
			"mysql": "b=tinyint(4) d=date null dec=decimal(65,2) null f32=float f64=double i16=smallint(6) i32=int(11) " +
				"i64=bigint(20) i8=tinyint(4) k=varchar(255) raw=varbinary(1024) null s=text null tm=time(3) null ts=datetime(3) null",
		}[db.kind]
		types := db.columnTypes(t, "types")
		var got []string
		for _, c := range connect.SortedKeys(types) {
			got = append(got, c+"="+types[c])
		}
		if strings.Join(got, " ") != want {
			t.Errorf("column types:\n got %s\nwant %s", strings.Join(got, " "), want)
		}
		if pk := db.primaryKey(t, "types"); strings.Join(pk, ",") != "k" {
			t.Errorf("primary key %v, want [k]", pk)
		}

		raw := db.q("raw") + "::text"
		if db.kind == "mysql" {
			raw = "LOWER(HEX(" + db.q("raw") + "))"
		}
		rows := db.rows(t, "SELECT "+strings.Join([]string{db.text("k"), db.text("i8"), db.text("i16"), db.text("i32"), db.text("i64"),
			db.text("f32"), db.text("f64"), db.text("b"), db.text("s"), raw, db.text("dec"), db.text("d"), db.text("tm"), db.text("ts")}, ", ")+
			" FROM "+db.q("types")+" ORDER BY "+db.q("k"))
		wantRows(t, rows, map[string][][]string{
			"postgres": {
				{"a", "5", "-300", "70000", "1099511627776", "1.5", "2.25", "true", "héllo", `\x0102ff`, "123.45", "2024-02-29", "13:14:15.123", "2024-02-29 13:14:15.123"},
				{"b", "0", "0", "0", "0", "0", "0", "false", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
			},
			"mysql": {
				{"a", "5", "-300", "70000", "1099511627776", "1.5", "2.25", "1", "héllo", "0102ff", "123.45", "2024-02-29", "13:14:15.123", "2024-02-29 13:14:15.123"},
				{"b", "0", "0", "0", "0", "0", "0", "0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
			},
		}[db.kind]...)
	})
}

// TestDBTimezone checks that db.timezone picks the wall clock written into zone-less columns.
func TestDBTimezone(t *testing.T) {
	s := connect.StructBuilder().Field("id", connect.Int32Schema).Field("ts", connect.TimestampSchema().MustBuild()).MustBuild()
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "db.timezone", "Europe/Helsinki"))
		rb := newRecords()
		// Helsinki is UTC+3 in summer.
		put(t, task, rb.rec("tz", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "ts", time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC))))
		want := map[string]string{"postgres": "2024-07-01 15:00:00", "mysql": "2024-07-01 15:00:00.000"}[db.kind] // DATETIME(3) shows its 3 digits
		wantRows(t, db.table(t, "tz", "id", "ts"), []string{"1", want})
	})
}

// TestInsertModes covers every insert.mode × pk.mode combination upstream allows.
func TestInsertModes(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		t.Run("insert/none", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "table.name.format", "ins_none"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)), rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)))
			put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 2, "b", 2)))
			wantRows(t, db.table(t, "ins_none", "id", "name", "qty"), []string{"1", "a", "1"}, []string{"1", "a", "1"}, []string{"2", "b", "2"})
			if pk := db.primaryKey(t, "ins_none"); len(pk) != 0 {
				t.Errorf("pk.mode=none created primary key %v", pk)
			}
		})
		t.Run("insert/kafka", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "kafka", "table.name.format", "ins_kafka"))
			rb := newRecords()
			put(t, task, rb.rec("t1", 0, nil, nil, rowSchema, row(t, 1, "a", 1)), rb.rec("t1", 3, nil, nil, rowSchema, row(t, 1, "b", 2)))
			wantRows(t, db.table(t, "ins_kafka", "__connect_topic", "__connect_partition", "__connect_offset", "id", "name"),
				[]string{"t1", "0", "0", "1", "a"}, []string{"t1", "3", "0", "1", "b"})
			if pk := db.primaryKey(t, "ins_kafka"); strings.Join(pk, ",") != "__connect_topic,__connect_partition,__connect_offset" {
				t.Errorf("primary key %v", pk)
			}
		})
		t.Run("insert/kafka/custom-names", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "kafka", "pk.fields", "tp,pa,of", "table.name.format", "ins_kafka2"))
			rb := newRecords()
			put(t, task, rb.rec("t1", 2, nil, nil, rowSchema, row(t, 1, "a", 1)))
			wantRows(t, db.table(t, "ins_kafka2", "tp", "pa", "of", "name"), []string{"t1", "2", "0", "a"})
		})
		t.Run("insert/record_key/primitive", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "pk.fields", "id", "table.name.format", "ins_rk"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, connect.Int32Schema, int32(7), rowSchema, row(t, 99, "a", 1)))
			// The key column comes from the key; the value's own id field is not written again.
			wantRows(t, db.table(t, "ins_rk", "id", "name", "qty"), []string{"7", "a", "1"})
			if pk := db.primaryKey(t, "ins_rk"); strings.Join(pk, ",") != "id" {
				t.Errorf("primary key %v", pk)
			}
		})
		t.Run("insert/record_value", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_value", "pk.fields", "id,name", "table.name.format", "ins_rv"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 5)), rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "b", 6)))
			wantRows(t, db.table(t, "ins_rv", "id", "name", "qty"), []string{"1", "a", "5"}, []string{"1", "b", "6"})
			if pk := db.primaryKey(t, "ins_rv"); strings.Join(pk, ",") != "id,name" {
				t.Errorf("primary key %v", pk)
			}
		})
		t.Run("upsert/record_key", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert", "table.name.format", "ups_rk"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)),
				rb.rec("t", 0, idKeySchema, idKey(t, 2), rowSchema, row(t, 2, "b", 2)))
			// Updates of existing keys, a new key, and the same key twice in one batch: the last wins.
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a2", 10)),
				rb.rec("t", 0, idKeySchema, idKey(t, 3), rowSchema, row(t, 3, "c", 3)),
				rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a3", 11)))
			wantRows(t, db.table(t, "ups_rk", "id", "name", "qty"), []string{"1", "a3", "11"}, []string{"2", "b", "2"}, []string{"3", "c", "3"})
		})
		t.Run("upsert/record_value", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_value", "pk.fields", "id", "insert.mode", "upsert", "table.name.format", "ups_rv"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)), rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "b", 2)))
			put(t, task, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "c", 3)), rb.rec("t", 0, nil, nil, rowSchema, row(t, 2, "d", 4)))
			wantRows(t, db.table(t, "ups_rv", "id", "name", "qty"), []string{"1", "c", "3"}, []string{"2", "d", "4"})
		})
		t.Run("upsert/kafka", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "kafka", "insert.mode", "upsert", "table.name.format", "ups_kafka"))
			rb := newRecords()
			recs := []connect.SinkRecord{rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)), rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "b", 2))}
			put(t, task, recs...)
			// Redelivering the same coordinates replaces rows rather than adding them.
			recs[1].Value = row(t, 1, "b2", 3)
			task2, _ := startTask(t, t.Name()+"-2", db.props("auto.create", "true", "pk.mode", "kafka", "insert.mode", "upsert", "table.name.format", "ups_kafka"))
			put(t, task2, recs[1])
			wantRows(t, db.table(t, "ups_kafka", "__connect_offset", "name"), []string{"0", "a"}, []string{"1", "b2"})
		})
		t.Run("upsert/key-only", func(t *testing.T) {
			// A table whose columns are all key columns: upstream's DO NOTHING / key=VALUES(key).
			keyOnly := connect.StructBuilder().Field("id", connect.Int32Schema).MustBuild()
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_value", "insert.mode", "upsert", "table.name.format", "ups_keyonly"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, nil, nil, keyOnly, mustStruct(t, keyOnly, "id", int32(1))))
			put(t, task, rb.rec("t", 0, nil, nil, keyOnly, mustStruct(t, keyOnly, "id", int32(1))), rb.rec("t", 0, nil, nil, keyOnly, mustStruct(t, keyOnly, "id", int32(2))))
			wantRows(t, db.table(t, "ups_keyonly", "id"), []string{"1"}, []string{"2"})
		})
		t.Run("update/record_key", func(t *testing.T) {
			db.exec(t, "CREATE TABLE "+db.q("upd")+" ("+db.q("id")+" INT PRIMARY KEY, "+db.q("name")+" VARCHAR(20), "+db.q("qty")+" BIGINT)")
			db.exec(t, "INSERT INTO "+db.q("upd")+" VALUES (1, 'a', 1), (2, 'b', 2)")
			task, _ := startTask(t, t.Name(), db.props("pk.mode", "record_key", "insert.mode", "update", "table.name.format", "upd"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 2), rowSchema, row(t, 2, "b2", 20)),
				rb.rec("t", 0, idKeySchema, idKey(t, 9), rowSchema, row(t, 9, "x", 9)))
			wantRows(t, db.table(t, "upd", "id", "name", "qty"), []string{"1", "a", "1"}, []string{"2", "b2", "20"})
		})
		t.Run("upsert/fields.whitelist", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert",
				"fields.whitelist", "name", "table.name.format", "ups_wl"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)))
			cols := connect.SortedKeys(db.columnTypes(t, "ups_wl"))
			if strings.Join(cols, ",") != "id,name" {
				t.Errorf("columns %v, want [id name]", cols)
			}
			wantRows(t, db.table(t, "ups_wl", "id", "name"), []string{"1", "a"})
		})
	})
}

// TestDeletes covers tombstones with delete.enabled, in both upsert and insert mode, including a
// key deleted and written again within one batch.
func TestDeletes(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		for _, mode := range []string{"upsert", "insert"} {
			t.Run(mode, func(t *testing.T) {
				table := "del_" + mode
				task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", mode,
					"delete.enabled", "true", "table.name.format", table))
				rb := newRecords()
				put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)),
					rb.rec("t", 0, idKeySchema, idKey(t, 2), rowSchema, row(t, 2, "b", 2)),
					rb.rec("t", 0, idKeySchema, idKey(t, 3), rowSchema, row(t, 3, "c", 3)))
				put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 5), rowSchema, row(t, 5, "e", 5)), // a write first, so the deletes share its segment
					rb.rec("t", 0, idKeySchema, idKey(t, 2), nil, nil),  // delete an existing row
					rb.rec("t", 0, idKeySchema, idKey(t, 99), nil, nil), // delete a missing row: no-op
					rb.rec("t", 0, idKeySchema, idKey(t, 3), nil, nil),  // delete and re-create in one batch
					rb.rec("t", 0, idKeySchema, idKey(t, 3), rowSchema, row(t, 3, "c2", 30)),
					rb.rec("t", 0, idKeySchema, idKey(t, 4), rowSchema, row(t, 4, "d", 4)), // create and delete in one batch
					rb.rec("t", 0, idKeySchema, idKey(t, 4), nil, nil))
				wantRows(t, db.table(t, table, "id", "name", "qty"), []string{"1", "a", "1"}, []string{"3", "c2", "30"}, []string{"5", "e", "5"})
			})
		}
		t.Run("disabled", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert", "table.name.format", "del_off"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)), rb.rec("t", 0, idKeySchema, idKey(t, 1), nil, nil))
			wantRows(t, db.table(t, "del_off", "id", "name"), []string{"1", "a"})
		})
		t.Run("only-deletes-missing-table", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("pk.mode", "record_key", "delete.enabled", "true", "table.name.format", "del_missing"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), nil, nil))
			if db.exists(t, "del_missing") {
				t.Error("a batch of deletes created the table")
			}
		})
	})
}

// TestUpsertModel drives random upserts and deletes in batches on both sides of the COPY
// threshold and compares the table with a map after every batch.
func TestUpsertModel(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert",
			"delete.enabled", "true", "table.name.format", "model", "batch.size", "37"))
		rng := rand.New(rand.NewPCG(1, 2))
		model := map[int32][2]string{}
		rb := newRecords()
		for batch := 0; batch < 12; batch++ {
			n := []int{1, 5, 63, 64, 200, 500}[batch%6]
			var recs []connect.SinkRecord
			for i := 0; i < n; i++ {
				id := int32(rng.IntN(300))
				if rng.IntN(4) == 0 {
					recs = append(recs, rb.rec("m", int32(id%3), idKeySchema, idKey(t, id), nil, nil))
					delete(model, id)
					continue
				}
				name, qty := "n"+strconv.Itoa(rng.IntN(1000)), int64(rng.IntN(1e6))
				recs = append(recs, rb.rec("m", int32(id%3), idKeySchema, idKey(t, id), rowSchema, row(t, id, name, qty)))
				model[id] = [2]string{name, strconv.FormatInt(qty, 10)}
			}
			put(t, task, recs...)
			var want [][]string
			for id, v := range model {
				want = append(want, []string{strconv.Itoa(int(id)), v[0], v[1]})
			}
			sort.Slice(want, func(i, j int) bool { a, _ := strconv.Atoi(want[i][0]); b, _ := strconv.Atoi(want[j][0]); return a < b })
			if !db.exists(t, "model") {
				// Only deletes so far: the table is created by the first write.
				if len(want) > 0 {
					t.Fatalf("batch %d: table missing, want %d rows", batch, len(want))
				}
				continue
			}
			wantRows(t, db.table(t, "model", "id", "name", "qty"), want...)
		}
	})
}

// TestSchemaEvolution covers auto.evolve (also within one batch), a missing column without it,
// and a missing table without auto.create.
func TestSchemaEvolution(t *testing.T) {
	v2 := connect.StructBuilder().Name("test.Value").
		Field("id", connect.Int32Schema).
		Field("name", connect.OptionalStringSchema).
		Field("qty", connect.OptionalInt64Schema).
		Field("email", connect.StringSchema).MustBuild()
	row2 := func(t *testing.T, id int32, email string) *connect.Struct {
		return mustStruct(t, v2, "id", id, "name", "x", "qty", int64(id), "email", email)
	}
	eachDB(t, func(t *testing.T, db *testDB) {
		t.Run("evolve", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "auto.evolve", "true", "pk.mode", "record_key",
				"insert.mode", "upsert", "table.name.format", "evo"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)))
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 2), v2, row2(t, 2, "b@x")),
				rb.rec("t", 0, idKeySchema, idKey(t, 3), rowSchema, row(t, 3, "c", 3)),
				rb.rec("t", 0, idKeySchema, idKey(t, 4), v2, row2(t, 4, "d@x")))
			wantRows(t, db.table(t, "evo", "id", "email"), []string{"1", "NULL"}, []string{"2", "b@x"}, []string{"3", "NULL"}, []string{"4", "d@x"})
			// Added columns are nullable even for a required field: existing rows have no value.
			if typ := db.columnTypes(t, "evo")["email"]; !strings.HasSuffix(typ, " null") {
				t.Errorf("added column email is %q, want nullable", typ)
			}
		})
		t.Run("missing-column", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert", "table.name.format", "noevo"))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)))
			err := deliver(context.Background(), task, []connect.SinkRecord{rb.rec("t", 0, idKeySchema, idKey(t, 2), v2, row2(t, 2, "b@x"))})
			wantErrContains(t, err, "noevo", "email", "auto.evolve")
		})
		t.Run("missing-table", func(t *testing.T) {
			task, _ := startTask(t, t.Name(), db.props("table.name.format", "nosuch"))
			rb := newRecords()
			err := deliver(context.Background(), task, []connect.SinkRecord{rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1))})
			wantErrContains(t, err, "nosuch", "does not exist", "auto.create")
		})
		t.Run("view-not-allowed", func(t *testing.T) {
			db.exec(t, "CREATE TABLE "+db.q("base")+" ("+db.q("id")+" INT, "+db.q("name")+" VARCHAR(10), "+db.q("qty")+" BIGINT)")
			db.exec(t, "CREATE VIEW "+db.q("v")+" AS SELECT * FROM "+db.q("base"))
			task, _ := startTask(t, t.Name(), db.props("table.name.format", "v"))
			rb := newRecords()
			err := deliver(context.Background(), task, []connect.SinkRecord{rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1))})
			wantErrContains(t, err, "VIEW", "table.types")
			task2, _ := startTask(t, t.Name()+"-2", db.props("table.name.format", "v", "table.types", "TABLE,VIEW"))
			put(t, task2, rb.rec("t", 0, nil, nil, rowSchema, row(t, 1, "a", 1)))
			wantRows(t, db.table(t, "base", "id", "name"), []string{"1", "a"})
		})
	})
}

// TestSchemalessRejected checks that records without schemas fail with a hint to enable them.
func TestSchemalessRejected(t *testing.T) {
	eachDB(t, func(t *testing.T, db *testDB) {
		task, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert"))
		rb := newRecords()
		err := deliver(context.Background(), task, []connect.SinkRecord{
			rb.rec("json", 2, idKeySchema, idKey(t, 1), rowSchema, row(t, 1, "a", 1)),
			rb.rec("json", 2, nil, map[string]any{"id": int64(2)}, nil, map[string]any{"id": int64(2), "name": "b"}),
		})
		wantErrContains(t, err, "topic=json", "partition=2", "offset=1", "schemas.enable=true", "Avro")
		if db.exists(t, "json") && db.count(t, "json") != 0 {
			t.Error("rows of a failed batch were written")
		}
		// A failed write fails the task for good; a restarted task sees the next problem.
		again, _ := startTask(t, t.Name(), db.props("auto.create", "true", "pk.mode", "record_key", "insert.mode", "upsert"))
		err = deliver(context.Background(), again, []connect.SinkRecord{rb.rec("json", 2, nil, map[string]any{"id": int64(2)}, rowSchema, row(t, 2, "b", 2))})
		wantErrContains(t, err, "key has no schema", "schemas.enable=true")
	})
}

// TestDecimalPrecision checks that a precision parameter (Debezium, Avro) makes a sized column for
// Debezium's class, as Debezium's sink does, while Confluent's class ignores it, as Confluent's does.
func TestDecimalPrecision(t *testing.T) {
	s := connect.StructBuilder().Field("id", connect.Int32Schema).
		Field("amount", connect.DecimalSchema(3).Param(decimalPrecisionParam, "10").MustBuild()).MustBuild()
	eachDB(t, func(t *testing.T, db *testDB) {
		for _, c := range []struct {
			class, table string
			want         map[string]string
		}{
			{debeziumClass, "money", map[string]string{"postgres": "numeric(10,3)", "mysql": "decimal(10,3)"}},
			{confluentClass, "money_c", map[string]string{"postgres": "numeric", "mysql": "decimal(65,3)"}},
		} {
			task, _ := startTask(t, t.Name()+c.table, db.props("connector.class", c.class, "auto.create", "true", "table.name.format", c.table))
			rb := newRecords()
			put(t, task, rb.rec("t", 0, nil, nil, s, mustStruct(t, s, "id", int32(1), "amount", connect.Decimal{Unscaled: big.NewInt(-1234567), Scale: 3})))
			if typ := db.columnTypes(t, c.table)["amount"]; typ != c.want[db.kind] {
				t.Errorf("%s: amount is %s, want %s", c.class, typ, c.want[db.kind])
			}
			wantRows(t, db.table(t, c.table, "id", "amount"), []string{"1", "-1234.567"})
		}
	})
}
