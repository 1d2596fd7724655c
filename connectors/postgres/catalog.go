package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// sessionParams fix the text formats the decoders rely on, whatever the server's defaults are;
// they are sent as startup parameters, so they also apply to the walsender running pgoutput.
var sessionParams = map[string]string{
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
}

// connConfig parses a connection string and applies sessionParams.
func connConfig(connString string) (*pgx.ConnConfig, error) {
	cc, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	for k, v := range sessionParams {
		cc.RuntimeParams[k] = v
	}
	return cc, nil
}

// catalog is the task's one ordinary connection: it reads table and type metadata, caching types
// (a Relation message clears the cache, so enum labels added later are seen), and runs the few
// other statements the task needs. It reconnects when the server went away.
type catalog struct {
	cfg   *config
	mu    sync.Mutex
	conn  *pgx.Conn
	types map[uint32]*pgType
}

func newCatalog(cfg *config) *catalog {
	return &catalog{cfg: cfg, types: map[uint32]*pgType{}}
}

// with runs fn on the connection, (re)connecting first when needed.
func (c *catalog) with(ctx context.Context, fn func(*pgx.Conn) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil || c.conn.IsClosed() {
		cc, err := connConfig(c.cfg.connString(false))
		if err != nil {
			return fmt.Errorf("connection settings: %w", err)
		}
		conn, err := pgx.ConnectConfig(ctx, cc)
		if err != nil {
			return fmt.Errorf("connect to %s:%d/%s: %w", c.cfg.host, c.cfg.port, c.cfg.dbname, err)
		}
		c.conn = conn
	}
	return fn(c.conn)
}

func (c *catalog) exec(ctx context.Context, sql string, args ...any) error {
	return c.with(ctx, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, sql, args...)
		return err
	})
}

func (c *catalog) queryRow(ctx context.Context, sql string, args []any, dest ...any) error {
	return c.with(ctx, func(conn *pgx.Conn) error { return conn.QueryRow(ctx, sql, args...).Scan(dest...) })
}

func (c *catalog) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.conn.Close(ctx)
		cancel()
		c.conn = nil
	}
}

// forget drops cached types so that changed enums are read again.
func (c *catalog) forget() {
	c.mu.Lock()
	c.types = map[uint32]*pgType{}
	c.mu.Unlock()
}

func (c *catalog) typeInfo(ctx context.Context) func(uint32) (*pgType, error) {
	return func(oid uint32) (*pgType, error) {
		c.mu.Lock()
		t, ok := c.types[oid]
		c.mu.Unlock()
		if ok {
			return t, nil
		}
		t = &pgType{}
		var typtype, category string
		err := c.queryRow(ctx, `SELECT t.oid, t.typname, t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typtypmod,
				COALESCE((SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '{}')
			FROM pg_catalog.pg_type t WHERE t.oid = $1`, []any{oid},
			&t.oid, &t.name, &typtype, &category, &t.elem, &t.base, &t.baseTypmod, &t.enumLabels)
		if err == pgx.ErrNoRows {
			t = nil
		} else if err != nil {
			return nil, fmt.Errorf("read type %d: %w", oid, err)
		} else {
			t.typtype, t.category = typtype[0], category[0]
		}
		c.mu.Lock()
		c.types[oid] = t
		c.mu.Unlock()
		return t, nil
	}
}

// tableInfo is a captured table as the catalog describes it.
type tableInfo struct {
	oid             uint32
	schema, name    string
	replicaIdentity byte // d default, f full, i index, n nothing
	hasPK           bool
	pages           int64
	tuples          float64
}

// columns returns the live columns of a table with nullability and primary key membership.
func (c *catalog) columns(ctx context.Context, relid uint32) (defs []colDef, err error) {
	err = c.with(ctx, func(conn *pgx.Conn) error {
		defs, err = columnsOn(ctx, conn, relid)
		return err
	})
	return defs, err
}

func columnsOn(ctx context.Context, conn *pgx.Conn, relid uint32) ([]colDef, error) {
	rows, err := conn.Query(ctx, `SELECT a.attname, a.atttypid, a.atttypmod, a.attnotnull,
			COALESCE(a.attnum = ANY(i.indkey), false)
		FROM pg_catalog.pg_attribute a
		LEFT JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY a.attnum`, relid)
	if err != nil {
		return nil, fmt.Errorf("read columns of relation %d: %w", relid, err)
	}
	defs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (colDef, error) {
		var d colDef
		err := r.Scan(&d.name, &d.typeOID, &d.typmod, &d.notNull, &d.pk)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("read columns of relation %d: %w", relid, err)
	}
	return defs, nil
}

// tables lists the ordinary tables the filters select, with what the snapshot and validation need.
// When publication is not empty, only tables in that publication are listed.
func (c *catalog) tables(ctx context.Context, f *filter, publication string) (out []tableInfo, err error) {
	err = c.with(ctx, func(conn *pgx.Conn) error {
		out, err = tablesOn(ctx, conn, f, publication)
		return err
	})
	return out, err
}

func tablesOn(ctx context.Context, conn *pgx.Conn, f *filter, publication string) ([]tableInfo, error) {
	rows, err := conn.Query(ctx, `SELECT c.oid, n.nspname, c.relname, c.relreplident,
			EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
			pg_catalog.pg_relation_size(c.oid) / current_setting('block_size')::bigint, c.reltuples::float8, c.relpages
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
			AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
			AND ($1 = '' OR EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables p
				WHERE p.pubname = $1 AND p.schemaname = n.nspname AND p.tablename = c.relname))
		ORDER BY n.nspname, c.relname`, publication)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []tableInfo
	for rows.Next() {
		var ti tableInfo
		var ident string
		var relpages int32
		if err := rows.Scan(&ti.oid, &ti.schema, &ti.name, &ident, &ti.hasPK, &ti.pages, &ti.tuples, &relpages); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		if !f.table(ti.schema, ti.name) {
			continue
		}
		ti.replicaIdentity = ident[0]
		if relpages > 0 && ti.tuples > 0 {
			ti.tuples = ti.tuples / float64(relpages) * float64(ti.pages)
		}
		out = append(out, ti)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return out, nil
}
