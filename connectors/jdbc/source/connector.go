package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/backoff"
)

// version is reported by GET /connector-plugins and the tasks.
const version = "0.1.0"

// connectorClass is the upstream class this connector stands in for.
const connectorClass = "io.confluent.connect.jdbc.JdbcSourceConnector"

// Plugins lists the JDBC source connector for the plugin registry.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:     connectorClass,
		Aliases:   []string{"JdbcSourceConnector"},
		Type:      connect.PluginSource,
		Version:   version,
		TaskClass: "io.confluent.connect.jdbc.source.JdbcSourceTask",
		New:       func() any { return &Connector{} },
	}}
}

// Connector lists the tables to copy, spreads them over the tasks, and watches for tables being
// created or dropped every table.poll.interval.ms.
type Connector struct {
	props map[string]string
	cfg   *config
	ctx   connect.ConnectorContext
	log   *slog.Logger

	d      dialect
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	tables []tableID
	quote  byte
}

var (
	_ connect.SourceConnector = (*Connector)(nil)
	_ connect.ConfigValidator = (*Connector)(nil)
)

// Version implements connect.Versioned.
func (c *Connector) Version() string { return version }

// ConfigDef implements connect.Configurable.
func (c *Connector) ConfigDef() *connect.ConfigDef { return configDef() }

// NewTask implements connect.SourceConnector.
func (c *Connector) NewTask() connect.SourceTask { return &Task{} }

// Start connects, lists the tables and starts watching for table changes.
func (c *Connector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	cfg, err := parseConfig(configDef(), props)
	if err != nil {
		return fmt.Errorf("jdbc source connector: %w", err)
	}
	c.props, c.cfg, c.ctx, c.log = maps.Clone(props), cfg, ctx, ctx.Logger()
	if cfg.query != "" {
		return nil
	}
	d, err := newDialect(cfg, c.log)
	if err != nil {
		return err
	}
	c.d, c.quote = d, quoteChar(d)
	bg := context.Background()
	if err := connectWithAttempts(bg, d, cfg, c.log); err != nil {
		return err
	}
	tables, err := c.listTables(bg)
	if err != nil {
		d.close()
		return fmt.Errorf("listing tables: %w", err)
	}
	if missing := missingWhitelisted(d, tables, cfg.whitelist); len(missing) > 0 {
		d.close()
		return fmt.Errorf("%s: no such table: %s", keyTableWhitelist, strings.Join(missing, ", "))
	}
	if err := duplicateError(tables); err != nil {
		d.close()
		return err
	}
	c.tables = tables
	c.log.Info("JDBC source connector found tables", "count", len(tables), "tables", fqns(tables))
	monitorCtx, cancel := context.WithCancel(bg)
	c.cancel, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		if err := c.monitor(monitorCtx); err != nil {
			c.log.Error("table monitor failed; the connector fails", "err", err)
			c.ctx.RaiseError(err)
		}
	}()
	return nil
}

func (c *Connector) listTables(ctx context.Context) ([]tableID, error) {
	all, err := c.d.listTables(ctx, c.cfg)
	if err != nil {
		return nil, err
	}
	return filterTables(c.d, all, c.cfg), nil
}

// monitor lists the tables every table.poll.interval.ms and asks for new task configurations
// when the set changed, so new tables are picked up and dropped ones released. As upstream's
// table monitor, it drops the connection when listing fails, connects again at the next poll
// with connection.attempts and connection.backoff.ms, and fails the connector when that does not
// succeed. It returns nil once ctx ends.
func (c *Connector) monitor(ctx context.Context) (err error) {
	defer connect.Recover(&err)
	connected := true
	for backoff.Sleep(ctx, c.cfg.tablePoll) {
		if !connected {
			if err := connectWithAttempts(ctx, c.d, c.cfg, c.log); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("table monitor: %w", err)
			}
			connected = true
			c.log.Info("table monitor reconnected to the database")
		}
		tables, err := c.listTables(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.Warn("cannot list tables; reconnecting at the next table poll", "err", err)
			c.d.close()
			connected = false
			continue
		}
		c.mu.Lock()
		changed := !slices.Equal(tables, c.tables)
		c.mu.Unlock()
		if !changed {
			continue
		}
		if err := duplicateError(tables); err != nil {
			return err
		}
		c.mu.Lock()
		added, removed := diffTables(c.tables, tables)
		c.tables = tables
		c.mu.Unlock()
		c.log.Info("tables changed; reassigning tasks", "added", fqns(added), "removed", fqns(removed))
		c.ctx.RequestTaskReconfiguration()
	}
	return nil
}

func diffTables(old, cur []tableID) (added, removed []tableID) {
	for _, t := range cur {
		if !slices.Contains(old, t) {
			added = append(added, t)
		}
	}
	for _, t := range old {
		if !slices.Contains(cur, t) {
			removed = append(removed, t)
		}
	}
	return added, removed
}

func fqns(ts []tableID) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.fqn()
	}
	return out
}

func duplicateError(tables []tableID) error {
	dups := duplicateNames(tables)
	if len(dups) == 0 {
		return nil
	}
	var parts []string
	for _, n := range connect.SortedKeys(dups) {
		parts = append(parts, fmt.Sprintf("%s (%s)", n, strings.Join(dups[n], ", ")))
	}
	return fmt.Errorf("tables in different schemas share a name, and topics are named after the bare table name, "+
		"so their rows would mix in one topic; select only one of each with %s or %s: %s",
		keyTableWhitelist, keyTableIncludeList, strings.Join(parts, "; "))
}

// TaskConfigs spreads the tables over at most maxTasks tasks in contiguous groups, as upstream's
// ConnectorUtils.groupPartitions does.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	base := func(tables string) map[string]string {
		m := maps.Clone(c.props)
		m[keyTables] = tables
		m[keyTablesFetched] = "true"
		return m
	}
	if c.cfg.query != "" {
		return []map[string]string{base("")}, nil
	}
	c.mu.Lock()
	tables := slices.Clone(c.tables)
	c.mu.Unlock()
	if len(tables) == 0 || maxTasks < 1 {
		return []map[string]string{base("")}, nil
	}
	groups := min(len(tables), maxTasks)
	per, extra := len(tables)/groups, len(tables)%groups
	out := make([]map[string]string, 0, groups)
	start := 0
	for g := range groups {
		n := per
		if g < extra {
			n++
		}
		out = append(out, base(formatTables(c.d, tables[start:start+n])))
		start += n
	}
	return out, nil
}

// Stop stops watching tables and closes the connection.
func (c *Connector) Stop() error {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	if c.d != nil {
		c.d.close()
	}
	return nil
}

// Validate checks what only the database can tell: that it is reachable, that the named tables
// and columns exist with usable types, and that the user may read them. Each problem is reported
// on the key that caused it.
func (c *Connector) Validate(ctx context.Context, props map[string]string, values []connect.ConfigValue) []connect.ConfigValue {
	for _, v := range values {
		if len(v.Errors) > 0 {
			return values
		}
	}
	add := func(key, msg string) {
		for i := range values {
			if values[i].Name == key {
				values[i].Errors = append(values[i].Errors, msg)
				return
			}
		}
	}
	cfg, err := parseConfig(configDef(), props)
	if err != nil {
		var ce *connect.ConfigError
		if errors.As(err, &ce) {
			for _, e := range ce.Errs {
				var fe *connect.FieldError
				if errors.As(e, &fe) {
					add(fe.Name, fe.Msg)
				}
			}
			return values
		}
		add(keyConnectionURL, err.Error())
		return values
	}
	for _, p := range validateWithDatabase(ctx, cfg) {
		add(p.key, p.msg)
	}
	return values
}

// problem is a validation failure on one key.
type problem struct{ key, msg string }

// keyError attaches a configuration key to an error found while preparing to read.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.key + ": " + e.err.Error() }

func (e *keyError) Unwrap() error { return e.err }

func keyErr(key string, format string, args ...any) error {
	return &keyError{key: key, err: fmt.Errorf(format, args...)}
}

// validateWithDatabase connects and checks the tables, columns, privileges and query.
func validateWithDatabase(ctx context.Context, cfg *config) []problem {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := newDialect(cfg, log)
	if err != nil {
		return []problem{{keyConnectionURL, err.Error()}}
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := d.open(ctx); err != nil {
		return []problem{{keyConnectionURL, fmt.Sprintf("cannot connect to the database: %v", err)}}
	}
	defer d.close()
	if cfg.query != "" {
		if _, err := newQuerier(ctx, d, cfg, log, nil, position{}); err != nil {
			return []problem{problemFor(err, cfg.queryKey())}
		}
		return nil
	}
	all, err := d.listTables(ctx, cfg)
	if err != nil {
		return []problem{{keyConnectionURL, fmt.Sprintf("cannot list tables: %v", err)}}
	}
	tables := filterTables(d, all, cfg)
	var out []problem
	for _, m := range missingWhitelisted(d, tables, cfg.whitelist) {
		out = append(out, problem{keyTableWhitelist, fmt.Sprintf("table %s does not exist (or is not of a type in %s)", m, keyTableTypes)})
	}
	if err := duplicateError(tables); err != nil {
		key := keyTableWhitelist
		if len(cfg.include) > 0 {
			key = keyTableIncludeList
		}
		out = append(out, problem{key, err.Error()})
	}
	for _, t := range tables {
		if err := d.checkReadable(ctx, t); err != nil {
			out = append(out, problem{keyConnectionUser, fmt.Sprintf("cannot read table %s: %v", t.fqn(), err)})
			continue
		}
		if _, err := newQuerier(ctx, d, cfg, log, &t, position{}); err != nil {
			out = append(out, problemFor(err, keyTableWhitelist))
		}
	}
	return out
}

func problemFor(err error, fallback string) problem {
	var ke *keyError
	if errors.As(err, &ke) {
		return problem{ke.key, err.Error()}
	}
	return problem{fallback, err.Error()}
}

// ExactlyOnceSupport implements connect.ExactlyOnceConnector: the incrementing and
// timestamp+incrementing modes resume strictly after the committed row. bulk re-reads whole tables
// by design, and timestamp alone cannot tell apart rows sharing the committed timestamp, which a
// resume may read again or pass over: neither can promise exactly once.
func (c *Connector) ExactlyOnceSupport(props map[string]string) bool {
	switch strings.TrimSpace(props[keyMode]) {
	case modeIncrementing, modeTimestampIncrementing:
		return true
	}
	return false
}
