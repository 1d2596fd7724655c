package sink

import (
	"context"
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// tableID names a table; schema is the PostgreSQL schema or the MySQL database, catalog the
// PostgreSQL database of a three-part name. Empty parts are resolved by the connection's defaults.
type tableID struct {
	catalog, schema, name string
}

func (id tableID) String() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{id.catalog, id.schema, id.name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ".")
}

// splitTableName splits a dotted name into at most maxParts non-empty parts, right-aligned into
// catalog, schema, name.
func splitTableName(name string, maxParts int) (tableID, error) {
	parts := strings.Split(name, ".")
	if len(parts) > maxParts {
		return tableID{}, fmt.Errorf("table name %q has %d dot-separated parts, at most %d are allowed", name, len(parts), maxParts)
	}
	for _, p := range parts {
		if p == "" {
			return tableID{}, fmt.Errorf("table name %q has an empty part", name)
		}
	}
	for len(parts) < 3 {
		parts = append([]string{""}, parts...)
	}
	return tableID{catalog: parts[0], schema: parts[1], name: parts[2]}, nil
}

// tableInfo is what the sink knows of an existing table.
type tableInfo struct {
	kind    string // TABLE, PARTITIONED_TABLE, VIEW or another upper-case word
	columns []string
	byName  map[string]int
	byFold  map[string][]int // lower-cased name → columns, for case-insensitive matching
}

func newTableInfo(kind string, columns []string) *tableInfo {
	ti := &tableInfo{kind: kind, columns: columns, byName: map[string]int{}, byFold: map[string][]int{}}
	for i, c := range columns {
		ti.byName[c] = i
		f := strings.ToLower(c)
		ti.byFold[f] = append(ti.byFold[f], i)
	}
	return ti
}

// lookup finds the column a field writes to: the exact name, else the one column that matches
// ignoring case (a table created with unquoted names by another tool).
func (ti *tableInfo) lookup(field string) (string, bool) {
	if i, ok := ti.byName[field]; ok {
		return ti.columns[i], true
	}
	if m := ti.byFold[strings.ToLower(field)]; len(m) == 1 {
		return ti.columns[m[0]], true
	}
	return "", false
}

// tableState is the task's cached knowledge of one destination table.
type tableState struct {
	id   tableID
	info *tableInfo // nil until described
	// bindings hold, per layout, the resolved column names and the dialect's prepared SQL; they
	// are dropped whenever info changes.
	bindings map[*layout]*binding
}

// binding is a layout resolved against a table: the actual column names and the SQL text built
// for them, cached by the dialect under its own keys.
type binding struct {
	cols []string // actual column names, in layout order
	nkey int
	sql  map[string]string
	// stage is the PostgreSQL staging table for this binding and the connection generation it was
	// created in; usedTx the transaction generation that last filled it.
	stage    string
	stageGen int
	usedTx   int
}

func (b *binding) keyCols() []string { return b.cols[:b.nkey] }
func (b *binding) valCols() []string { return b.cols[b.nkey:] }

// cached returns the SQL cached under key, building it on first use.
func (b *binding) cached(key string, build func() string) string {
	if s, ok := b.sql[key]; ok {
		return s
	}
	if b.sql == nil {
		b.sql = map[string]string{}
	}
	s := build()
	b.sql[key] = s
	return s
}

// ddlColumn is a column to create or add.
type ddlColumn struct {
	name     string
	sqlType  string
	nullable bool
}

// prepareTables makes sure every table of the plan exists with every column its records need,
// creating and altering as configured, and binds each layout. DDL runs before the data
// transaction because MySQL commits implicitly on DDL.
func (t *Task) prepareTables(ctx context.Context, p *plan) error {
	for _, tp := range p.tables {
		if err := t.prepareTable(ctx, tp); err != nil {
			return err
		}
	}
	return nil
}

func (t *Task) prepareTable(ctx context.Context, tp *tablePlan) error {
	ts := tp.table
	if ts.info == nil {
		info, err := t.db.describe(ctx, ts.id)
		if err != nil {
			return fmt.Errorf("describe table %s: %w", ts.id, err)
		}
		ts.setInfo(info)
	}
	if ts.info == nil {
		create := createLayout(tp)
		if create == nil {
			// Only deletes or truncates for a table that does not exist: nothing to do.
			return nil
		}
		if !t.cfg.autoCreate {
			return fmt.Errorf("table %s does not exist and auto.create is disabled; create it or set auto.create=true", ts.id)
		}
		if err := t.createTable(ctx, ts, create); err != nil {
			return err
		}
	}
	if !t.cfg.tableTypes[ts.info.kind] {
		return fmt.Errorf("table %s is a %s, which table.types does not include (it allows %s)", ts.id, ts.info.kind, strings.Join(connect.SortedKeys(t.cfg.tableTypes), ","))
	}
	// Adding columns for one layout drops the bindings made so far; bind until a pass changes
	// nothing.
	for {
		info := ts.info
		for _, s := range tp.steps {
			if s.truncate {
				continue
			}
			if err := t.bind(ctx, ts, s.layout); err != nil {
				return err
			}
		}
		if ts.info == info {
			break
		}
	}
	for _, s := range tp.steps {
		if !s.truncate {
			if err := t.db.prepareBinding(ctx, ts, ts.bindings[s.layout]); err != nil {
				return err
			}
		}
	}
	return nil
}

// createLayout picks the layout to create a missing table from: the first that writes rows; nil
// when the batch only truncates or deletes, which are no-ops on a missing table.
func createLayout(tp *tablePlan) *layout {
	for _, s := range tp.steps {
		if !s.truncate && len(s.writes) > 0 {
			return s.layout
		}
	}
	return nil
}

func (ts *tableState) setInfo(info *tableInfo) {
	ts.info = info
	ts.bindings = nil
}

func (t *Task) createTable(ctx context.Context, ts *tableState, l *layout) error {
	cols := make([]ddlColumn, 0, len(l.cols))
	for _, i := range l.createOrder {
		col := &l.cols[i]
		typ, err := t.db.sqlType(col)
		if err != nil {
			return fmt.Errorf("auto.create table %s, column %s: %w", ts.id, col.name, err)
		}
		cols = append(cols, ddlColumn{name: t.db.foldIdent(col.name, t.cfg.quoteIdents), sqlType: typ, nullable: !col.key && col.schema.Optional})
	}
	var pk []string
	for _, col := range l.keyCols() {
		pk = append(pk, t.db.foldIdent(col.name, t.cfg.quoteIdents))
	}
	t.log.Info("creating table", "table", ts.id.String(), "columns", len(cols), "primary_key", strings.Join(pk, ","))
	createErr := t.db.createTable(ctx, ts.id, cols, pk)
	// Another task creating the same table at the same moment makes PostgreSQL's CREATE TABLE IF
	// NOT EXISTS fail on its catalog's unique indexes (type already exists, duplicate key); what
	// counts is whether the table exists now. Its columns are then checked like any table's.
	info, err := t.db.describe(ctx, ts.id)
	if createErr != nil {
		if err != nil || info == nil {
			return fmt.Errorf("auto.create table %s: %w", ts.id, createErr)
		}
		t.log.Info("table was created concurrently by another writer", "table", ts.id.String(), "err", createErr)
	}
	if err != nil {
		return fmt.Errorf("describe table %s: %w", ts.id, err)
	}
	if info == nil {
		return fmt.Errorf("table %s is still missing after CREATE TABLE", ts.id)
	}
	ts.setInfo(info)
	return nil
}

// bind resolves a layout's fields to the table's columns, adding missing ones when auto.evolve is
// on and failing with the table and columns named otherwise.
func (t *Task) bind(ctx context.Context, ts *tableState, l *layout) error {
	if _, ok := ts.bindings[l]; ok {
		return nil
	}
	missing := t.missingColumns(ts.info, l)
	if len(missing) > 0 {
		names := make([]string, len(missing))
		for i, col := range missing {
			names[i] = col.name
		}
		if !t.cfg.autoEvolve {
			return fmt.Errorf("table %s is missing column(s) %s that the records of topic %s carry, and auto.evolve is disabled; "+
				"add the column(s) or set auto.evolve=true", ts.id, strings.Join(names, ", "), l.topic)
		}
		add := make([]ddlColumn, len(missing))
		for i, col := range missing {
			typ, err := t.db.sqlType(col)
			if err != nil {
				return fmt.Errorf("auto.evolve table %s, column %s: %w", ts.id, col.name, err)
			}
			add[i] = ddlColumn{name: t.db.foldIdent(col.name, t.cfg.quoteIdents), sqlType: typ, nullable: true}
		}
		t.log.Info("adding columns", "table", ts.id.String(), "columns", strings.Join(names, ","))
		addErr := t.db.addColumns(ctx, ts.id, add)
		// Another task may have added them concurrently; what counts is whether they exist now.
		info, err := t.db.describe(ctx, ts.id)
		if err != nil {
			return fmt.Errorf("describe table %s: %w", ts.id, err)
		}
		if info == nil {
			return fmt.Errorf("table %s disappeared while adding columns", ts.id)
		}
		ts.setInfo(info)
		if still := t.missingColumns(info, l); len(still) > 0 {
			if addErr != nil {
				return fmt.Errorf("auto.evolve table %s: %w", ts.id, addErr)
			}
			return fmt.Errorf("auto.evolve table %s: column %s is still missing after ALTER TABLE", ts.id, still[0].name)
		}
	}
	b := &binding{nkey: l.nkey, cols: make([]string, len(l.cols))}
	for i := range l.cols {
		b.cols[i], _ = ts.info.lookup(t.db.foldIdent(l.cols[i].name, t.cfg.quoteIdents))
	}
	if ts.bindings == nil {
		ts.bindings = map[*layout]*binding{}
	}
	ts.bindings[l] = b
	return nil
}

func (t *Task) missingColumns(info *tableInfo, l *layout) []*column {
	var missing []*column
	for i := range l.cols {
		if _, ok := info.lookup(t.db.foldIdent(l.cols[i].name, t.cfg.quoteIdents)); !ok {
			missing = append(missing, &l.cols[i])
		}
	}
	return missing
}
