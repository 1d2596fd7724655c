package runtime

import (
	"fmt"

	"github.com/kconnect/kconnect/connect"
)

// converters are the key, value and header converters of one task.
type converters struct {
	key, value connect.Converter
	header     connect.HeaderConverter
}

// buildConverters instantiates a task's converters: the connector's key.converter (with its
// key.converter.* settings) if set, else the worker's; likewise for values and headers.
func buildConverters(reg *connect.Registry, worker, conn map[string]string) (converters, error) {
	var c converters
	var err error
	if c.key, err = buildConverter(reg, worker, conn, KeyConverter, true); err != nil {
		return c, err
	}
	if c.value, err = buildConverter(reg, worker, conn, ValueConverter, false); err != nil {
		return c, err
	}
	props, cls := converterSettings(worker, conn, HeaderConverter)
	if cls == "" {
		cls = "org.apache.kafka.connect.storage.SimpleHeaderConverter"
	}
	p, err := reg.Lookup(cls, connect.PluginHeaderConverter)
	if err != nil {
		return c, fmt.Errorf("%s: %w", HeaderConverter, err)
	}
	c.header = p.New().(connect.HeaderConverter)
	if err := c.header.Configure(props); err != nil {
		return c, fmt.Errorf("configure %s %s: %w", HeaderConverter, cls, err)
	}
	return c, nil
}

func buildConverter(reg *connect.Registry, worker, conn map[string]string, key string, isKey bool) (connect.Converter, error) {
	props, cls := converterSettings(worker, conn, key)
	if cls == "" {
		return nil, fmt.Errorf("missing required configuration %q", key)
	}
	p, err := reg.Lookup(cls, connect.PluginConverter)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	conv := p.New().(connect.Converter)
	if err := conv.Configure(props, isKey); err != nil {
		return nil, fmt.Errorf("configure %s %s: %w", key, cls, err)
	}
	return conv, nil
}

// converterSettings picks the converter class and its sub-settings from the connector config
// when it names a class, else from the worker config, as upstream does.
func converterSettings(worker, conn map[string]string, key string) (map[string]string, string) {
	if cls := conn[key]; cls != "" {
		return connect.WithPrefix(conn, key+"."), cls
	}
	return connect.WithPrefix(worker, key+"."), worker[key]
}
