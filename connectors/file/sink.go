package file

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"

	"github.com/kconnect/kconnect/connect"
)

// writeThreshold is how many buffered bytes make Put write them out. The buffer only ever holds
// whole lines and is written with one call, so tasks appending to the same file never interleave
// within a line.
const writeThreshold = 64 << 10

func sinkConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{
			Name: fileConfig, Type: connect.ConfigString, Importance: connect.High,
			Doc: "Path of the file the record values are appended to, one per line; created when missing. When unset or empty, values go to standard output.",
		})
}

// SinkConnector is FileStreamSink: every task appends to the same file.
type SinkConnector struct {
	props map[string]string
}

var _ connect.SinkConnector = (*SinkConnector)(nil)

// Version implements connect.Versioned.
func (c *SinkConnector) Version() string { return version }

// ConfigDef implements connect.Configurable. topics and topics.regex are the runtime's keys.
func (c *SinkConnector) ConfigDef() *connect.ConfigDef { return sinkConfigDef() }

// Start checks the configuration and keeps it for the tasks.
func (c *SinkConnector) Start(ctx connect.ConnectorContext, props map[string]string) error {
	cfg, err := sinkConfigDef().Parse(props)
	if err != nil {
		return fmt.Errorf("file sink configuration: %w", err)
	}
	c.props = maps.Clone(props)
	ctx.Logger().Info("starting file sink connector", "file", displayName(cfg.String(fileConfig), "standard output"))
	return nil
}

// TaskConfigs returns maxTasks copies of the configuration, as upstream does.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]map[string]string, error) {
	return connect.SameTaskConfigs(c.props, maxTasks), nil
}

// Stop implements connect.Connector; the connector holds no resources.
func (c *SinkConnector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{} }

// SinkTask appends the string form of each record value, followed by a newline, to a file.
// Values are written as Java's String.valueOf prints them, which is what upstream writes.
type SinkTask struct {
	log  *slog.Logger
	name string
	out  *os.File
	sync bool // fsync on PreCommit; false for standard output
	buf  []byte
}

var _ connect.SinkTask = (*SinkTask)(nil)

// Version implements connect.Versioned.
func (t *SinkTask) Version() string { return version }

// Start opens the file for appending, creating it when missing.
func (t *SinkTask) Start(ctx connect.SinkTaskContext, props map[string]string) error {
	cfg, err := sinkConfigDef().Parse(props)
	if err != nil {
		return fmt.Errorf("file sink task configuration: %w", err)
	}
	path := cfg.String(fileConfig)
	t.name = displayName(path, "stdout")
	t.log = ctx.Logger().With("file", t.name)
	t.buf = make([]byte, 0, writeThreshold+writeThreshold/4)
	if path == "" {
		t.out, t.sync = os.Stdout, false
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return fmt.Errorf("open %s for appending: %w", path, err)
	}
	t.out, t.sync = f, true
	return nil
}

// Put buffers the values and writes the buffer out whenever it passes writeThreshold. A write
// error fails the task: records already in the buffer cannot be told apart from the batch, so
// redelivering the batch could not be made exact.
func (t *SinkTask) Put(_ context.Context, records []connect.SinkRecord) error {
	for i := range records {
		t.buf = appendJava(t.buf, records[i].Value)
		t.buf = append(t.buf, '\n')
		if len(t.buf) >= writeThreshold {
			if err := t.write(); err != nil {
				return err
			}
		}
	}
	return nil
}

// PreCommit writes what is buffered and syncs the file, after which every delivered record is
// durable and all of current may be committed.
func (t *SinkTask) PreCommit(_ context.Context, current map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	return current, nil
}

func (t *SinkTask) flush() error {
	if err := t.write(); err != nil {
		return err
	}
	if t.sync {
		if err := t.out.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", t.name, err)
		}
	}
	return nil
}

func (t *SinkTask) write() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.out.Write(t.buf); err != nil {
		return fmt.Errorf("write %s: %w", t.name, err)
	}
	if cap(t.buf) > 4*writeThreshold {
		// A huge value grew the buffer; do not keep that much memory for good.
		t.buf = make([]byte, 0, writeThreshold+writeThreshold/4)
	} else {
		t.buf = t.buf[:0]
	}
	return nil
}

// Stop writes and syncs what is buffered and closes the file.
func (t *SinkTask) Stop() error {
	if t.out == nil {
		return nil
	}
	err := t.flush()
	if t.sync {
		if cerr := t.out.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", t.name, cerr)
		}
	}
	t.out = nil
	return err
}
