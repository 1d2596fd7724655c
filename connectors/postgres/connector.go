// Package postgres is a change data capture source for PostgreSQL: it reads the logical
// replication stream (pgoutput) and publishes change events in Debezium's format, so it can
// replace io.debezium.connector.postgresql.PostgresConnector with the same configuration.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kconnect/kconnect/connect"
)

// Version is the plugin version reported by the REST API.
const Version = "0.1.0"

// ConnectorClass is the Debezium class name this connector stands in for.
const ConnectorClass = "io.debezium.connector.postgresql.PostgresConnector"

// Plugins lists the plugins of this package.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:     ConnectorClass,
		Aliases:   []string{"PostgresConnector", "PostgresCdcSource"},
		Type:      connect.PluginSource,
		Version:   Version,
		TaskClass: "io.debezium.connector.postgresql.PostgresConnectorTask",
		New:       func() any { return &Connector{} },
	}}
}

// Connector is the PostgreSQL CDC source connector; it always runs one task, because one
// replication slot is read by one connection.
type Connector struct {
	props map[string]string
}

// Version implements connect.Versioned.
func (c *Connector) Version() string { return Version }

// ConfigDef implements connect.Configurable.
func (c *Connector) ConfigDef() *connect.ConfigDef { return configDef }

// Start implements connect.Connector.
func (c *Connector) Start(_ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseConfig(props); err != nil {
		return err
	}
	c.props = props
	return nil
}

// TaskConfigs implements connect.Connector.
func (c *Connector) TaskConfigs(int) ([]map[string]string, error) {
	cp := make(map[string]string, len(c.props))
	for k, v := range c.props {
		cp[k] = v
	}
	return []map[string]string{cp}, nil
}

// Stop implements connect.Connector.
func (c *Connector) Stop() error { return nil }

// NewTask implements connect.SourceConnector.
func (c *Connector) NewTask() connect.SourceTask { return &Task{} }

// Validate checks the server side of the configuration: that the login works and has the
// REPLICATION attribute, that wal_level is logical, that the publication exists when it will not
// be created, and that every captured table can deliver updates and deletes.
func (c *Connector) Validate(ctx context.Context, props map[string]string, values []connect.ConfigValue) []connect.ConfigValue {
	for _, v := range values {
		if len(v.Errors) > 0 {
			return values // connecting with a broken configuration would only add noise
		}
	}
	cfg, err := parseConfig(props)
	if err != nil {
		return values
	}
	add := func(key, msg string) {
		for i := range values {
			if values[i].Name == key {
				values[i].Errors = append(values[i].Errors, msg)
				return
			}
		}
	}
	warn := func(key, msg string) {
		for i := range values {
			if values[i].Name == key {
				values[i].Warnings = append(values[i].Warnings, msg)
				return
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cc, err := connConfig(cfg.connString(false))
	if err != nil {
		add(cfgHostname, err.Error())
		return values
	}
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		add(cfgHostname, fmt.Sprintf("Unable to connect to %s:%d/%s as %s: %v", cfg.host, cfg.port, cfg.dbname, cfg.user, err))
		return values
	}
	defer conn.Close(context.Background())
	problems, warnings := checkServer(ctx, conn, cfg)
	for _, p := range problems {
		add(p.key, p.msg)
	}
	for _, p := range warnings {
		warn(p.key, p.msg)
	}
	return values
}

type problem struct{ key, msg string }

// checkServer returns the configuration's errors and warnings that only the server can tell.
func checkServer(ctx context.Context, conn *pgx.Conn, cfg *config) (out, warnings []problem) {
	var walLevel string
	var super, repl bool
	err := conn.QueryRow(ctx, `SELECT current_setting('wal_level'), r.rolsuper, r.rolreplication
		FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`).Scan(&walLevel, &super, &repl)
	if err != nil {
		return append(out, problem{cfgHostname, fmt.Sprintf("Unable to read server settings: %v", err)}), nil
	}
	if walLevel != "logical" {
		out = append(out, problem{cfgPluginName, fmt.Sprintf("wal_level is %q but logical decoding needs \"logical\": set wal_level = logical in postgresql.conf and restart PostgreSQL", walLevel)})
	}
	if !super && !repl {
		out = append(out, problem{cfgUser, fmt.Sprintf("role %q lacks the REPLICATION attribute: run ALTER ROLE %s WITH REPLICATION as a superuser", cfg.user, pgQuoteIdent(cfg.user))})
	}
	var pubExists, allTables bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1),
		COALESCE((SELECT puballtables FROM pg_catalog.pg_publication WHERE pubname = $1), false)`, cfg.publication).Scan(&pubExists, &allTables)
	if err != nil {
		return append(out, problem{cfgPublicationName, fmt.Sprintf("Unable to look up publication %q: %v", cfg.publication, err)}), nil
	}
	switch {
	case !pubExists && cfg.publicationMode == pubDisabled:
		out = append(out, problem{cfgPublicationName, fmt.Sprintf("publication %q does not exist and %s is disabled: create it with CREATE PUBLICATION %s FOR ALL TABLES (or FOR TABLE the captured tables), or set %s to all_tables or filtered",
			cfg.publication, cfgPublicationMode, pgQuoteIdent(cfg.publication), cfgPublicationMode)})
	case !pubExists && cfg.publicationMode == pubAllTables && !super:
		out = append(out, problem{cfgPublicationMode, fmt.Sprintf("creating publication %q FOR ALL TABLES needs a superuser and role %q is not one: create the publication as a superuser, or use %s=filtered (needs ownership of the tables)",
			cfg.publication, cfg.user, cfgPublicationMode)})
	}
	var active bool
	var pid *int32
	err = conn.QueryRow(ctx, `SELECT active, active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, cfg.slot).Scan(&active, &pid)
	if err == nil && active && pid != nil {
		// A warning: a worker killed a moment before leaves its session holding the slot until
		// PostgreSQL notices, and the task waits for that (Task.freeSlot).
		warnings = append(warnings, problem{cfgSlotName, fmt.Sprintf("replication slot %q is active for PID %d: if another connector or session reads it, stop it or choose another %s; the task waits up to %s times %s for it to end", cfg.slot, *pid, cfgSlotName, cfgSlotMaxRetries, cfgSlotRetryDelay)})
	} else if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		out = append(out, problem{cfgSlotName, fmt.Sprintf("Unable to look up replication slot %q: %v", cfg.slot, err)})
	}
	all, err := tablesOn(ctx, conn, &filter{}, "")
	if err != nil {
		return append(out, problem{cfgTableInclude, fmt.Sprintf("Unable to list tables: %v", err)}), nil
	}
	var noKey []string
	for _, ti := range all {
		if cfg.filter.table(ti.schema, ti.name) && !ti.hasPK && (ti.replicaIdentity == 'd' || ti.replicaIdentity == 'n') {
			noKey = append(noKey, pgQuoteIdent(ti.schema)+"."+pgQuoteIdent(ti.name))
		}
	}
	if len(noKey) > 0 {
		out = append(out, problem{cfgTableInclude, fmt.Sprintf("tables without a primary key under REPLICA IDENTITY DEFAULT cannot publish updates or deletes: %s; add a primary key, or run ALTER TABLE <table> REPLICA IDENTITY FULL, or exclude them with %s",
			strings.Join(noKey, ", "), cfgTableExclude)})
	}
	if w := includeWarning(cfg, all); w != "" {
		warnings = append(warnings, problem{cfgTableInclude, w})
	}
	return out, warnings
}

// includeWarning names the table.include.list entries that match no existing table, "" when every
// entry matches one. Debezium accepts such a list and captures nothing from the entry (a filtered
// publication with no table at all fails its task), so a typo goes unnoticed: kconnect warns.
func includeWarning(cfg *config, all []tableInfo) string {
	var unmatched []string
	for _, re := range cfg.filter.tableInc {
		matched := false
		for _, ti := range all {
			if re.MatchString(ti.schema + "." + ti.name) {
				matched = true
				break
			}
		}
		if !matched {
			unmatched = append(unmatched, strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$"))
		}
	}
	switch len(unmatched) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("%s entry %s matches no table of database %s, so nothing is captured for it (entries are regular expressions matched against schema.table names)",
			cfgTableInclude, unmatched[0], cfg.dbname)
	}
	return fmt.Sprintf("%s entries %s match no table of database %s, so nothing is captured for them (entries are regular expressions matched against schema.table names)",
		cfgTableInclude, strings.Join(unmatched, ", "), cfg.dbname)
}

// ExactlyOnceSupport implements connect.ExactlyOnceConnector, as Debezium's connector declares:
// streaming resumes from the committed LSN, which the slot is confirmed up to only once the
// offsets are durable (Task.Commit), and the snapshot restarts from the beginning when it did not
// complete, which the transaction of its last records makes visible with its completion or not at all.
func (c *Connector) ExactlyOnceSupport(map[string]string) bool { return true }
