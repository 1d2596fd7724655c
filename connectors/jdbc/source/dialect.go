package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/connectors/jdbc/jdbcurl"
)

// tableID names a table: ns is the schema on PostgreSQL and the database on MySQL, as upstream's
// TableId keeps them (PostgreSQL's catalog is dropped because a connection sees one database).
type tableID struct {
	ns, name string
}

// fqn is the qualified name without quotes, as upstream's source partitions and include lists use it.
func (t tableID) fqn() string {
	if t.ns == "" {
		return t.name
	}
	return t.ns + "." + t.name
}

// column is a table column as the catalog describes it.
type column struct {
	name          string
	typ           colType
	nullable      bool
	autoIncrement bool
}

// resultColumn is a column of a query result.
type resultColumn struct {
	name   string
	typ    colType
	target *target
}

// rowPlan describes the rows of a query: their Connect schema and the column of each field.
type rowPlan struct {
	schema  *connect.Schema
	columns []resultColumn
	// impl is the dialect's part of the plan: scan destinations and decoders.
	impl any
}

// index returns the position of the result column called name, matching case-insensitively when
// no column has exactly that name (as upstream does for timestamp columns), or -1.
func (p *rowPlan) index(name string) int {
	for i, c := range p.columns {
		if c.name == name {
			return i
		}
	}
	found := -1
	for i, c := range p.columns {
		if strings.EqualFold(c.name, name) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// rowSource streams the rows of one query.
type rowSource interface {
	plan() *rowPlan
	next() bool
	// decode stores the Connect value of every plan column of the current row in vals.
	decode(vals []any) error
	// instant returns the full-precision time of a date or timestamp column of the current row;
	// ok is false for NULL.
	instant(i int) (t time.Time, ok bool, err error)
	// integer returns the current row's value of an integer column; ok is false for NULL.
	integer(i int) (v int64, ok bool, err error)
	err() error
	close()
}

// queryOpts says how to turn a query's rows into records.
type queryOpts struct {
	cfg *config
	// prev is the plan of the previous run of the statement, reused when the columns are unchanged.
	prev *rowPlan
	// schemaName names the records' struct schema; empty for a custom query.
	schemaName string
	// catalog describes the table's columns where the result metadata says less; nil for a query.
	catalog []column
}

// barrier is a set of transactions that must end before rows below a bound are final.
type barrier interface {
	// empty reports that there is nothing to wait for.
	empty() bool
	// String names the transactions, for the log line when waiting takes long.
	String() string
}

// errClass sorts database errors by what the task does about them.
type errClass int

const (
	// errFatal fails the task: a mistake in the configuration or the data.
	errFatal errClass = iota
	// errTransient is retried after reconnecting: lost connection, restart, deadlock.
	errTransient
	// errMissingTable parks the table until it reappears or the connector reassigns tables.
	errMissingTable
	// errPlanChanged is retried at once after dropping cached statements: the table's columns changed.
	errPlanChanged
)

// dialect is one database's SQL and driver. A dialect holds one connection and is used by one
// goroutine at a time.
type dialect interface {
	name() jdbcurl.Dialect
	// quote quotes an identifier.
	quote(ident string) string
	// param returns the placeholder of the n-th (1-based) statement parameter.
	param(n int) string
	// open connects, replacing a previous connection; retries are the caller's.
	open(ctx context.Context) error
	close()
	// listTables returns the tables of the configured types and patterns, sorted.
	listTables(ctx context.Context, cfg *config) ([]tableID, error)
	// columns describes a table from the catalog; errTableNotFound when it does not exist.
	columns(ctx context.Context, t tableID) ([]column, error)
	// checkReadable runs a SELECT on the table that reads no rows, to surface missing privileges.
	checkReadable(ctx context.Context, t tableID) error
	// describeQuery returns the columns a query produces, without reading rows.
	describeQuery(ctx context.Context, sql string, cfg *config) ([]resultColumn, error)
	// now returns the database's clock.
	now(ctx context.Context) (time.Time, error)
	// maxInt runs a query returning one integer or NULL.
	maxInt(ctx context.Context, sql string) (v int64, ok bool, err error)
	// writerBarrier returns the transactions that may still commit rows into t with incrementing
	// values already allocated, taken after the caller read the maximum value; t is nil for a
	// custom query. See the package documentation for why this is sound.
	writerBarrier(ctx context.Context, t *tableID) (barrier, error)
	// timeBarrier returns the database clock and the transactions that started before it and may
	// still commit rows stamped before it.
	timeBarrier(ctx context.Context) (time.Time, barrier, error)
	// barrierDone reports whether every transaction of b has ended.
	barrierDone(ctx context.Context, b barrier) (bool, error)
	// query runs sql and streams its rows.
	query(ctx context.Context, sql string, args []any, o queryOpts) (rowSource, error)
	// bindTime turns a bound into a statement parameter for a column of kind k.
	bindTime(t time.Time, k kind, zone *time.Location) any
	// classify sorts an error returned by the methods above.
	classify(err error) errClass
}

// errTableNotFound is returned by dialect.columns for a table that does not exist.
var errTableNotFound = errors.New("table not found")

// newDialect picks the dialect for cfg's connection settings.
func newDialect(cfg *config, log *slog.Logger) (dialect, error) {
	conn, err := jdbcurl.Parse(cfg.url, cfg.user, cfg.password)
	if err != nil {
		return nil, err
	}
	switch cfg.dialectName {
	case dialectPostgres:
		if conn.Dialect != jdbcurl.PostgreSQL {
			return nil, fmt.Errorf("%s is %s but connection.url is a %s URL", keyDialectName, cfg.dialectName, conn.Dialect)
		}
	case dialectMySQL:
		if conn.Dialect != jdbcurl.MySQL {
			return nil, fmt.Errorf("%s is %s but connection.url is a %s URL", keyDialectName, cfg.dialectName, conn.Dialect)
		}
	}
	switch conn.Dialect {
	case jdbcurl.PostgreSQL:
		return newPostgres(conn, cfg)
	case jdbcurl.MySQL:
		return newMySQL(conn, cfg, log)
	}
	return nil, fmt.Errorf("connection.url: unsupported database %s", conn.Dialect)
}

// quoteWith quotes ident with q, doubling embedded quote characters.
func quoteWith(ident string, q byte) string {
	var b strings.Builder
	b.Grow(len(ident) + 2)
	b.WriteByte(q)
	for i := 0; i < len(ident); i++ {
		if ident[i] == q {
			b.WriteByte(q)
		}
		b.WriteByte(ident[i])
	}
	b.WriteByte(q)
	return b.String()
}

// quoteTable renders a table as a quoted qualified name.
func quoteTable(d dialect, t tableID) string {
	if t.ns == "" {
		return d.quote(t.name)
	}
	return d.quote(t.ns) + "." + d.quote(t.name)
}

// formatTables renders tables for the task configuration: quoted qualified names separated by commas.
func formatTables(d dialect, tables []tableID) string {
	parts := make([]string, len(tables))
	for i, t := range tables {
		parts[i] = quoteTable(d, t)
	}
	return strings.Join(parts, ",")
}

// parseTables reads what formatTables wrote, with q the dialect's quote character.
func parseTables(s string, q byte) ([]tableID, error) {
	var out []tableID
	var parts []string
	var cur strings.Builder
	quoted, inQuote := false, false
	flushPart := func() error {
		p := cur.String()
		if !quoted {
			p = strings.TrimSpace(p)
		}
		if p == "" && !quoted {
			return fmt.Errorf("empty identifier in %q", s)
		}
		parts = append(parts, p)
		cur.Reset()
		quoted = false
		return nil
	}
	flushTable := func() error {
		if err := flushPart(); err != nil {
			return err
		}
		switch len(parts) {
		case 1:
			out = append(out, tableID{name: parts[0]})
		case 2:
			out = append(out, tableID{ns: parts[0], name: parts[1]})
		default:
			return fmt.Errorf("table name %q has %d parts, want at most 2", strings.Join(parts, "."), len(parts))
		}
		parts = parts[:0]
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == q && i+1 < len(s) && s[i+1] == q:
			cur.WriteByte(q)
			i++
		case inQuote && c == q:
			inQuote = false
		case inQuote:
			cur.WriteByte(c)
		case c == q:
			inQuote, quoted = true, true
		case c == '.':
			if err := flushPart(); err != nil {
				return nil, err
			}
		case c == ',':
			if err := flushTable(); err != nil {
				return nil, err
			}
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if err := flushTable(); err != nil {
		return nil, err
	}
	return out, nil
}

// filterTables applies table.whitelist/blacklist or table.include.list/exclude.list.
func filterTables(d dialect, all []tableID, cfg *config) []tableID {
	named := func(list []string, t tableID) bool {
		return slices.Contains(list, t.fqn()) || slices.Contains(list, quoteTable(d, t)) || slices.Contains(list, t.name)
	}
	matches := func(res []*regexp.Regexp, t tableID) bool {
		for _, re := range res {
			if re.MatchString(t.fqn()) {
				return true
			}
		}
		return false
	}
	var out []tableID
	for _, t := range all {
		switch {
		case len(cfg.whitelist) > 0:
			if !named(cfg.whitelist, t) {
				continue
			}
		case len(cfg.blacklist) > 0:
			if named(cfg.blacklist, t) {
				continue
			}
		case len(cfg.include) > 0:
			if !matches(cfg.include, t) || matches(cfg.exclude, t) {
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// missingWhitelisted returns the table.whitelist entries that name none of tables.
func missingWhitelisted(d dialect, tables []tableID, whitelist []string) []string {
	var missing []string
	for _, w := range whitelist {
		found := false
		for _, t := range tables {
			if w == t.fqn() || w == quoteTable(d, t) || w == t.name {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, w)
		}
	}
	return missing
}

// duplicateNames reports tables whose unqualified names collide: upstream names topics after the
// bare table name, so two such tables would mix in one topic.
func duplicateNames(tables []tableID) map[string][]string {
	byName := map[string][]string{}
	for _, t := range tables {
		byName[t.name] = append(byName[t.name], t.fqn())
	}
	dups := map[string][]string{}
	for n, fqns := range byName {
		if len(fqns) > 1 {
			dups[n] = fqns
		}
	}
	return dups
}

// resolveColumn finds the catalog column a configured name refers to: exactly, or else
// case-insensitively when that is unambiguous.
func resolveColumn(cols []column, name string) (column, error) {
	for _, c := range cols {
		if c.name == name {
			return c, nil
		}
	}
	var found []column
	for _, c := range cols {
		if strings.EqualFold(c.name, name) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return column{}, fmt.Errorf("column %q does not exist", name)
	}
	return column{}, fmt.Errorf("column %q matches %d columns that differ only in case; name it exactly", name, len(found))
}

// isConnectionError recognizes a network failure below the driver: refused, reset, closed.
func isConnectionError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE)
}
