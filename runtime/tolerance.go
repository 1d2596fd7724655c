package runtime

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/metrics"
)

// Stages of the data path, named as upstream's error context reports them.
const (
	stageTransform      = "TRANSFORMATION"
	stageKeyConverter   = "KEY_CONVERTER"
	stageValueConverter = "VALUE_CONVERTER"
	stageHeaderConvert  = "HEADER_CONVERTER"
)

// tolerance applies errors.tolerance to conversion and transform failures: with "none" the first
// failure fails the task; with "all" the record is skipped (and, for sinks, dead-lettered) and
// the failure optionally logged.
type tolerance struct {
	all         bool
	logErrors   bool
	logMessages bool
	log         *slog.Logger
	metrics     *metrics.Task
}

func newTolerance(cfg *connect.Config, log *slog.Logger) *tolerance {
	return &tolerance{
		all:         strings.EqualFold(cfg.String(ErrorsTolerance), "all"),
		logErrors:   cfg.Bool(ErrorsLogEnable),
		logMessages: cfg.Bool(ErrorsLogMessages),
		log:         log,
	}
}

// handle returns nil when the failure is tolerated (the caller skips the record) and otherwise
// the error that fails the task, naming the stage and the record.
func (t *tolerance) handle(stage string, rec *connect.Record, err error) error {
	t.metrics.RecordFailed(t.all)
	if !t.all {
		return fmt.Errorf("tolerance exceeded in error handler: %s failed for record in topic %s partition %d offset %d: %w",
			stage, rec.Topic, rec.Partition, rec.Offset, err)
	}
	if t.logErrors {
		attrs := []any{"stage", stage, "err", err}
		if t.logMessages {
			attrs = append(attrs, "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
		}
		t.log.Error("error encountered in task, record skipped", attrs...)
	}
	return nil
}
