package sink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/kconnect/kconnect/connect"
)

// version is reported by GET /connector-plugins.
const version = "0.1.0"

// validateConnectTimeout bounds the connection check of the validate endpoint.
const validateConnectTimeout = 10 * time.Second

// Plugins lists the JDBC sink: one implementation answering to Confluent's and Debezium's class
// names, with Debezium's configuration keys mapped onto Confluent's.
func Plugins() []connect.Plugin {
	return []connect.Plugin{{
		Class:            confluentClass,
		Aliases:          []string{"JdbcSinkConnector", debeziumClass},
		Type:             connect.PluginSink,
		Version:          version,
		TaskClass:        "io.confluent.connect.jdbc.sink.JdbcSinkTask",
		AliasTaskClasses: map[string]string{debeziumClass: "io.debezium.connector.jdbc.JdbcSinkConnectorTask"},
		New:              func() any { return &Connector{} },
	}}
}

// Connector is the JDBC sink connector: it validates the configuration and hands it to every task.
type Connector struct {
	props map[string]string
}

// Version implements connect.Versioned.
func (c *Connector) Version() string { return version }

// ConfigDef implements connect.Configurable.
func (c *Connector) ConfigDef() *connect.ConfigDef { return configDef() }

// Start checks the configuration, including the rules that span several keys.
func (c *Connector) Start(_ connect.ConnectorContext, props map[string]string) error {
	if _, err := parseConfig(props); err != nil {
		return fmt.Errorf("jdbc sink config: %w", err)
	}
	c.props = maps.Clone(props)
	return nil
}

// TaskConfigs gives every task the connector's configuration; the consumer group spreads the
// partitions over them.
func (c *Connector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	return connect.SameTaskConfigs(c.props, maxTasks), nil
}

// Stop implements connect.Connector.
func (c *Connector) Stop() error { return nil }

// NewTask returns an unstarted task.
func (c *Connector) NewTask() connect.SinkTask { return &Task{} }

// Validate adds the cross-key checks and a connection test to the ConfigDef's per-key results.
func (c *Connector) Validate(ctx context.Context, props map[string]string, values []connect.ConfigValue) []connect.ConfigValue {
	index := map[string]int{}
	for i, v := range values {
		index[v.Name] = i
	}
	addErr := func(name, msg string) {
		i, ok := index[name]
		if !ok {
			return
		}
		for _, e := range values[i].Errors {
			if e == msg {
				return
			}
		}
		values[i].Errors = append(values[i].Errors, msg)
	}
	cfg, err := parseConfig(props)
	if err != nil {
		var ce *connect.ConfigError
		if errors.As(err, &ce) {
			for _, e := range ce.Errs {
				var fe *connect.FieldError
				if errors.As(e, &fe) {
					addErr(fe.Name, fe.Msg)
				}
			}
		}
		return values
	}
	cctx, cancel := context.WithTimeout(ctx, validateConnectTimeout)
	defer cancel()
	d := newDialect(cfg)
	if err := d.open(cctx); err != nil {
		addErr(keyConnectionURL, fmt.Sprintf("cannot connect to the %s database: %v", cfg.conn.Dialect, err))
		return values
	}
	d.close()
	return values
}
