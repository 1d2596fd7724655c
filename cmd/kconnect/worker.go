package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/internal/logging"
	"github.com/kconnect/kconnect/plugins"
	"github.com/kconnect/kconnect/rest"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/configprovider"
	"github.com/kconnect/kconnect/runtime/herder"
	"github.com/kconnect/kconnect/runtime/metrics"
)

// workerSetup is what both modes make of a worker config file before they differ.
type workerSetup struct {
	file     configFile
	loggers  *logging.Loggers
	log      *slog.Logger
	registry *connect.Registry
	resolver *configprovider.Resolver
	metrics  *metrics.Metrics
}

// setUpWorker loads a worker config file, checks its converters, sets up logging as it asks
// and builds the plugin registry and the config provider resolver.
func setUpWorker(path string) (workerSetup, error) {
	worker, err := loadConfigFile(path)
	if err != nil {
		return workerSetup{}, err
	}
	props := worker.props
	for _, k := range []string{runtime.KeyConverter, runtime.ValueConverter} {
		if props[k] == "" {
			return workerSetup{}, fmt.Errorf("%s: missing required worker setting %q", worker.path, k)
		}
	}
	level, err := logging.ParseLevel(orDefault(props[logLevelKey], "INFO"))
	if err != nil {
		return workerSetup{}, worker.errorAt(logLevelKey, "%v", err)
	}
	loggers := logging.New(os.Stderr, props[logFormatKey], level)
	log := loggers.Logger("kconnect")
	slog.SetDefault(log)

	reg, err := plugins.Registry()
	if err != nil {
		return workerSetup{}, err
	}
	for _, k := range []string{runtime.KeyConverter, runtime.ValueConverter, runtime.HeaderConverter} {
		if cls := props[k]; cls != "" {
			if _, err := reg.Lookup(cls); err != nil {
				return workerSetup{}, worker.errorAt(k, "%v", err)
			}
		}
	}
	resolver, err := configprovider.NewResolver(props)
	var bad *connect.FieldError
	if errors.As(err, &bad) {
		return workerSetup{}, worker.errorAt(bad.Name, "%s", bad.Msg)
	}
	if err != nil {
		return workerSetup{}, fmt.Errorf("%s: %w", worker.path, err)
	}
	return workerSetup{file: worker, loggers: loggers, log: log, registry: reg, resolver: resolver, metrics: metrics.New()}, nil
}

// restConfig reads the REST settings of the worker config.
func (ws workerSetup) restConfig() (rest.Config, error) {
	cfg, err := rest.ConfigFromWorker(ws.file.props)
	if err != nil {
		return rest.Config{}, fmt.Errorf("%s: %w", ws.file.path, err)
	}
	cfg.Loggers = ws.loggers
	cfg.Metrics = ws.metrics.Handler()
	return cfg, nil
}

// observe makes w report to the worker's metrics and log each connector through its own logger.
func (ws workerSetup) observe(w *runtime.Worker) {
	w.SetMetrics(ws.metrics)
	w.SetLoggers(ws.loggers)
}

// newREST returns the REST server of h with the settings cfg.
func (ws workerSetup) newREST(h herder.Herder, cfg rest.Config) (*rest.Server, error) {
	srv, err := rest.New(h, cfg, ws.loggers.Logger("kconnect.rest"))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ws.file.path, err)
	}
	return srv, nil
}
