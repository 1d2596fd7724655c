package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kconnect/kconnect/broker"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/standalone"
)

// Worker keys of kconnect's own, beyond upstream's.
const (
	embeddedPortKey = "kconnect.embedded.broker.port"
	logFormatKey    = "kconnect.log.format"
	logLevelKey     = "kconnect.log.level"
)

func runStandalone(args []string) error {
	if len(args) == 0 {
		return usageError("standalone needs a worker config file")
	}
	ws, err := setUpWorker(args[0])
	if err != nil {
		return err
	}
	worker, props, loggers, log, reg, resolver := ws.file, ws.file.props, ws.loggers, ws.log, ws.registry, ws.resolver
	var connectorConfigs []map[string]string
	for _, path := range args[1:] {
		cf, err := loadConfigFile(path)
		if err != nil {
			return err
		}
		if err := checkConnectorFile(cf, reg); err != nil {
			return err
		}
		connectorConfigs = append(connectorConfigs, cf.props)
	}

	offsetsPath := props[runtime.OffsetStorageFile]
	if offsetsPath == "" {
		return fmt.Errorf("%s: standalone mode needs %q", worker.path, runtime.OffsetStorageFile)
	}
	stateDir := orDefault(props[runtime.StateDir], filepath.Dir(offsetsPath))

	var health func() error // what GET /health checks beyond the herder

	if strings.TrimSpace(props[runtime.BootstrapServers]) == runtime.EmbeddedBootstrapServer {
		port := 9092
		if v := props[embeddedPortKey]; v != "" {
			if port, err = strconv.Atoi(v); err != nil {
				return worker.errorAt(embeddedPortKey, "not a port number: %q", v)
			}
		}
		b, err := broker.Start(broker.Options{Port: port, DataDir: filepath.Join(stateDir, "broker"), Logger: loggers.Logger("kconnect.broker"), HaltOnStorageFailure: true})
		if err != nil {
			return err
		}
		defer b.Close()
		props[runtime.BootstrapServers] = b.Addr()
		health = b.Err
	}

	store, err := standaloneOffsets(context.Background(), props, offsetsPath, log)
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}
	defer store.Close()
	w, err := runtime.NewWorker(workerID(props), props, reg, store, log)
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}
	defer w.Close()
	ws.observe(w)
	h := standalone.New(w, log, standalone.Options{StatePath: filepath.Join(stateDir, "connectors.json"), Resolver: resolver, Health: health})

	restCfg, err := ws.restConfig()
	if err != nil {
		return err
	}
	srv, err := ws.newREST(h, restCfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// REST comes up first so /health answers 503 while connectors start, as upstream.
	if err := srv.Start(ctx); err != nil {
		return err
	}
	w.SetID(hostPort(srv.AdvertisedURL()))
	if err := h.Start(ctx, connectorConfigs); err != nil {
		return err
	}
	log.Info("kconnect standalone worker started", "rest", srv.AdvertisedURL(), "kafka", props[runtime.BootstrapServers],
		"connectors", len(connectorConfigs), "offsets", offsetsPath)

	<-ctx.Done()
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), w.ShutdownTimeout()+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("REST server shutdown", "err", err)
	}
	h.Stop(shutdownCtx)
	log.Info("stopped")
	return nil
}

// workerID is the worker's name until the REST listener is bound: the configured listener.
func workerID(props map[string]string) string {
	return hostPort(strings.Split(orDefault(props[runtime.Listeners], "http://:8083"), ",")[0])
}

// hostPort returns host:port of a URL, as upstream names standalone workers.
func hostPort(rawURL string) string {
	if u, err := url.Parse(strings.TrimSpace(rawURL)); err == nil && u.Host != "" {
		return u.Host
	}
	host, _ := os.Hostname()
	return host
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return v
}
