// Package sinkbaseline is what the JDBC sink benchmarks measure kconnect against: bare programs
// upserting rowgen's rows into PostgreSQL or MySQL/MariaDB the fastest plain way, plus the table
// and records both sides share. Every sink benchmark uses this one copy, so their baselines and
// their kconnect runs cannot drift apart.
package sinkbaseline

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/kconnect/kconnect/bench/internal/rowgen"
	"github.com/kconnect/kconnect/connect"
)

// Database kinds, as the commands' -db flags spell them.
const (
	Postgres = "postgres"
	MySQL    = "mysql"
)

// Table is the measured table, named so that kconnect's table.name.format can point at it.
const Table = "bench"

// columns are the table's columns in rowgen.Row's field order, which both baselines rely on.
var columns = []string{"id", "name", "email", "qty", "price", "score", "active", "created"}

// The table is created by hand for kconnect too, not by auto.create, so that every program
// writes the same column types.
const (
	pgDDL = `CREATE TABLE "bench" ("id" BIGINT PRIMARY KEY, "name" TEXT NOT NULL, "email" TEXT NOT NULL, "qty" INT NOT NULL,
		"price" DOUBLE PRECISION NOT NULL, "score" DOUBLE PRECISION NOT NULL, "active" BOOLEAN NOT NULL, "created" TIMESTAMP NOT NULL)`
	myDDL = "CREATE TABLE `bench` (`id` BIGINT PRIMARY KEY, `name` VARCHAR(64) NOT NULL, `email` VARCHAR(64) NOT NULL, `qty` INT NOT NULL, " +
		"`price` DOUBLE NOT NULL, `score` DOUBLE NOT NULL, `active` BOOLEAN NOT NULL, `created` DATETIME(3) NOT NULL)"
)

// KeySchema and ValueSchema are the Connect schemas kconnect receives rows with, matching the
// table's columns so that the sink needs no field mapping.
var (
	KeySchema   = connect.StructBuilder().Name("bench.Key").Field("id", connect.Int64Schema).MustBuild()
	ValueSchema = connect.StructBuilder().Name("bench.Value").
			Field("id", connect.Int64Schema).
			Field("name", connect.StringSchema).
			Field("email", connect.StringSchema).
			Field("qty", connect.Int32Schema).
			Field("price", connect.Float64Schema).
			Field("score", connect.Float64Schema).
			Field("active", connect.BooleanSchema).
			Field("created", connect.TimestampSchema().MustBuild()).MustBuild()
)

// Record returns r as the key and value kconnect gets, so the sink writes what the baselines do.
func Record(r rowgen.Row) (key, value *connect.Struct) {
	value = connect.NewStruct(ValueSchema)
	value.SetAt(0, r.ID)
	value.SetAt(1, r.Name)
	value.SetAt(2, r.Email)
	value.SetAt(3, r.Qty)
	value.SetAt(4, r.Price)
	value.SetAt(5, r.Score)
	value.SetAt(6, r.Active)
	value.SetAt(7, r.Created)
	key = connect.NewStruct(KeySchema)
	key.SetAt(0, r.ID)
	return key, value
}

// CreateDatabase makes a fresh database, named prefix plus a timestamp, on the server of admin (a
// postgres:// URL, or a go-sql-driver DSN for MySQL) and returns its DSN, usable both here and as
// the sink's connection.url, and a function dropping it; a fresh database per run keeps runs from
// seeing each other's tables and offsets.
func CreateDatabase(ctx context.Context, kind, admin, prefix string) (string, func(), error) {
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	switch kind {
	case MySQL:
		cfg, err := mysql.ParseDSN(admin)
		if err != nil {
			return "", nil, fmt.Errorf("parse MySQL admin DSN: %w", err)
		}
		conn, err := sql.Open("mysql", admin)
		if err != nil {
			return "", nil, err
		}
		if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+myIdent(name)); err != nil {
			conn.Close()
			return "", nil, fmt.Errorf("create database %s: %w", name, err)
		}
		cfg.DBName = name
		return cfg.FormatDSN(), func() {
			_, _ = conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+myIdent(name))
			conn.Close()
		}, nil
	case Postgres:
		u, err := url.Parse(admin)
		if err != nil {
			return "", nil, fmt.Errorf("parse PostgreSQL admin DSN: %w", err)
		}
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return "", nil, err
		}
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			conn.Close(ctx)
			return "", nil, fmt.Errorf("create database %s: %w", name, err)
		}
		u.Path = "/" + name
		return u.String(), func() {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
			conn.Close(ctx)
		}, nil
	}
	return "", nil, fmt.Errorf("unknown database %q: want %s or %s", kind, Postgres, MySQL)
}

// DB is one connection to a benchmark database of either kind, so that the commands set up,
// load and check both kinds through the same calls.
type DB struct {
	kind string
	pg   *pgx.Conn
	my   *sql.DB
}

// Connect opens dsn, a postgres:// URL for kind postgres or a go-sql-driver DSN for mysql.
func Connect(ctx context.Context, kind, dsn string) (*DB, error) {
	switch kind {
	case Postgres:
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return &DB{kind: kind, pg: conn}, nil
	case MySQL:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("parse MySQL DSN: %w", err)
		}
		// One round trip per statement and the server's own packet limit, as a tuned program
		// (and the sink) would have.
		cfg.InterpolateParams = true
		cfg.MaxAllowedPacket = 0
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, err
		}
		db := sql.OpenDB(connector)
		db.SetMaxOpenConns(1) // one session, as the sink's
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return &DB{kind: kind, my: db}, nil
	}
	return nil, fmt.Errorf("unknown database %q: want %s or %s", kind, Postgres, MySQL)
}

// Close releases the connection; errors are dropped since the database is thrown away after a run.
func (d *DB) Close() {
	if d.pg != nil {
		d.pg.Close(context.Background())
	}
	if d.my != nil {
		d.my.Close()
	}
}

// Quote returns name as an identifier of d's SQL dialect, for queries written once for both.
func (d *DB) Quote(name string) string {
	if d.kind == MySQL {
		return myIdent(name)
	}
	return pgx.Identifier{name}.Sanitize()
}

// QueryRow runs query, which must return one row, into dest, so that callers can poll either
// kind of database without knowing its driver.
func (d *DB) QueryRow(ctx context.Context, query string, dest ...any) error {
	if d.pg != nil {
		return d.pg.QueryRow(ctx, query).Scan(dest...)
	}
	return d.my.QueryRowContext(ctx, query).Scan(dest...)
}

// CreateTable creates the measured table; kconnect's runs call it too instead of auto.create.
func (d *DB) CreateTable(ctx context.Context) error {
	var err error
	if d.pg != nil {
		_, err = d.pg.Exec(ctx, pgDDL)
	} else {
		_, err = d.my.ExecContext(ctx, myDDL)
	}
	if err != nil {
		return fmt.Errorf("create table %s: %w", Table, err)
	}
	return nil
}

// CountRows returns the measured table's row count, which must equal the generator's distinct
// ids after any program's run.
func (d *DB) CountRows(ctx context.Context) (int64, error) {
	var n int64
	if err := d.QueryRow(ctx, "SELECT count(*) FROM "+d.Quote(Table), &n); err != nil {
		return 0, fmt.Errorf("count rows of %s: %w", Table, err)
	}
	return n, nil
}

// Spent is the time a baseline spent inside its database calls, the span comparable to the
// sink's Put and PreCommit; generating and converting the rows is left out.
type Spent struct {
	Wall time.Duration // elapsed time, summed over the batches' transactions
	CPU  time.Duration // this process's user and system time, the database server's excluded
}

// Load upserts every batch of g into the table made by CreateTable, one transaction per batch.
// PostgreSQL gets COPY into a temporary staging table plus one INSERT … ON CONFLICT, MySQL
// multi-row INSERT … ON DUPLICATE KEY UPDATE statements of chunk rows each: the fastest plain
// ways of upserting in each, which kconnect's sink is measured against.
func (d *DB) Load(ctx context.Context, g *rowgen.Generator, chunk int) (Spent, error) {
	if d.pg != nil {
		return d.loadPostgres(ctx, g)
	}
	return d.loadMySQL(ctx, g, chunk)
}

func (d *DB) loadPostgres(ctx context.Context, g *rowgen.Generator) (Spent, error) {
	if _, err := d.pg.Exec(ctx, `CREATE TEMP TABLE "stage" ON COMMIT DELETE ROWS AS SELECT * FROM "bench" WITH NO DATA`); err != nil {
		return Spent{}, fmt.Errorf("create staging table: %w", err)
	}
	sets := make([]string, 0, len(columns)-1)
	for _, c := range columns[1:] {
		sets = append(sets, pgx.Identifier{c}.Sanitize()+" = EXCLUDED."+pgx.Identifier{c}.Sanitize())
	}
	merge := `INSERT INTO "bench" SELECT * FROM "stage" ON CONFLICT ("id") DO UPDATE SET ` + strings.Join(sets, ", ")
	var s Spent
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		values := make([][]any, len(rows))
		for i, r := range rows {
			values[i] = []any{r.ID, r.Name, r.Email, r.Qty, r.Price, r.Score, r.Active, r.Created}
		}
		cpu0, start := CPUTime(), time.Now()
		tx, err := d.pg.Begin(ctx)
		if err != nil {
			return Spent{}, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage"}, columns, pgx.CopyFromRows(values)); err != nil {
			_ = tx.Rollback(ctx)
			return Spent{}, fmt.Errorf("copy into staging table: %w", err)
		}
		if _, err := tx.Exec(ctx, merge); err != nil {
			_ = tx.Rollback(ctx)
			return Spent{}, fmt.Errorf("upsert from staging table: %w", err)
		}
		if err := tx.Commit(ctx); err != nil {
			return Spent{}, err
		}
		s.Wall += time.Since(start)
		s.CPU += CPUTime() - cpu0
	}
	return s, nil
}

func (d *DB) loadMySQL(ctx context.Context, g *rowgen.Generator, chunk int) (Spent, error) {
	if chunk <= 0 {
		return Spent{}, fmt.Errorf("chunk %d: want at least one row per statement", chunk)
	}
	sets := make([]string, 0, len(columns)-1)
	for _, c := range columns[1:] {
		sets = append(sets, myIdent(c)+"=VALUES("+myIdent(c)+")")
	}
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = myIdent(c)
	}
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(columns)), ",") + ")"
	statement := func(n int) string {
		return "INSERT INTO `bench` (" + strings.Join(quoted, ",") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(tuple+",", n), ",") + " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ",")
	}
	full := statement(chunk)
	args := make([]any, 0, chunk*len(columns))
	var s Spent
	for rows := g.Batch(); rows != nil; rows = g.Batch() {
		cpu0, start := CPUTime(), time.Now()
		tx, err := d.my.BeginTx(ctx, nil)
		if err != nil {
			return Spent{}, err
		}
		for i := 0; i < len(rows); i += chunk {
			part := rows[i:min(i+chunk, len(rows))]
			args = args[:0]
			for _, r := range part {
				args = append(args, r.ID, r.Name, r.Email, r.Qty, r.Price, r.Score, r.Active, r.Created)
			}
			q := full
			if len(part) != chunk {
				q = statement(len(part))
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				_ = tx.Rollback()
				return Spent{}, fmt.Errorf("upsert %d rows: %w", len(part), err)
			}
		}
		if err := tx.Commit(); err != nil {
			return Spent{}, err
		}
		s.Wall += time.Since(start)
		s.CPU += CPUTime() - cpu0
	}
	return s, nil
}

// CPUTime returns this process's user plus system CPU time, the clock Spent.CPU is read with, so
// that commands measure kconnect's runs on the same one.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(fmt.Sprintf("getrusage: %v", err)) // cannot fail for RUSAGE_SELF with a valid pointer
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func myIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
