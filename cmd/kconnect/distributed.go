package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/cluster"
	"github.com/kconnect/kconnect/runtime/distributed"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// startupTimeout bounds opening the internal topics.
const startupTimeout = 2 * time.Minute

func runDistributed(args []string) error {
	if len(args) != 1 {
		return usageError("distributed needs exactly one worker config file")
	}
	ws, err := setUpWorker(args[0])
	if err != nil {
		return err
	}
	worker, props, log := ws.file, ws.file.props, ws.log
	if strings.TrimSpace(props[runtime.BootstrapServers]) == runtime.EmbeddedBootstrapServer {
		return worker.errorAt(runtime.BootstrapServers, "%q is for standalone mode: the workers of a cluster share one Kafka cluster, such as one started with `kconnect broker`", runtime.EmbeddedBootstrapServer)
	}
	if props[runtime.OffsetStorageFile] != "" {
		return worker.errorAt(runtime.OffsetStorageFile, "is a standalone setting; distributed workers keep source offsets in offset.storage.topic")
	}
	cfg, err := distributed.ParseConfig(props)
	var bad *connect.FieldError
	if errors.As(err, &bad) {
		return worker.errorAt(bad.Name, "%s", bad.Msg)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}
	client, err := runtime.WorkerClientOpts(props)
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}
	// Source records and their offsets reach Kafka only while the worker surely still holds
	// its tasks, so that a worker stopped past its session timeout and continued writes nothing
	// after the tasks' new owners.
	lease := cluster.NewLease()
	cfg.Member.Lease = lease
	offsetsClient, err := runtime.LeasedClientOpts(props, lease)
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}

	if cfg.ExactlyOnce == distributed.EOSEnabled {
		// Offsets written in a transaction that aborted must never be read back.
		if cfg.OffsetTopic, err = runtime.OffsetTopicSettings(props, ""); err != nil {
			return fmt.Errorf("%s: %w", worker.path, err)
		}
		log.Info("exactly-once source delivery enabled", "offsets_topic", cfg.OffsetTopic.Name)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	openCtx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	store, err := offsets.OpenTopic(openCtx, offsetsClient, cfg.OffsetTopic, log)
	if err != nil {
		return fmt.Errorf("%s: open offsets topic: %w", worker.path, err)
	}
	defer store.Close()
	w, err := runtime.NewWorker(workerID(props), props, ws.registry, store, log)
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}
	defer w.Close()
	w.SetLease(lease)
	ws.observe(w)
	restCfg, err := ws.restConfig()
	if err != nil {
		return err
	}
	h, err := distributed.New(openCtx, w, log, distributed.Options{Config: cfg, Client: client, Resolver: ws.resolver,
		TrackTopics: !restCfg.DisableTopicTracking})
	if err != nil {
		return fmt.Errorf("%s: %w", worker.path, err)
	}

	srv, err := ws.newREST(h, restCfg)
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	// Upstream names a distributed worker by its advertised REST address too.
	w.SetID(hostPort(srv.AdvertisedURL()))
	if err := h.Start(srv.AdvertisedURL()); err != nil {
		return err
	}
	log.Info("kconnect distributed worker started", "rest", srv.AdvertisedURL(), "kafka", props[runtime.BootstrapServers],
		"group", cfg.Member.GroupID)

	<-ctx.Done()
	log.Info("shutting down")
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), w.ShutdownTimeout()+5*time.Second)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.Canceled) {
		log.Warn("REST server shutdown", "err", err)
	}
	h.Stop()
	log.Info("stopped")
	return nil
}
