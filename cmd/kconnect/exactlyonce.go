package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/kconnect/kconnect/runtime"
	"github.com/kconnect/kconnect/runtime/offsets"
)

// standaloneOffsets opens the standalone worker's offset store: the offsets file, or, with
// exactly.once.source.support=enabled, the offsets topic (offset.storage.topic, default
// connect-offsets), created compacted if missing, into which the file's offsets are copied once
// so that connectors resume where they were. It also defaults group.id, which prefixes the
// tasks' transactional ids, to standaloneGroupID.
func standaloneOffsets(ctx context.Context, props map[string]string, offsetsPath string, log *slog.Logger) (offsets.Store, error) {
	file, err := offsets.OpenFile(offsetsPath)
	if err != nil || strings.TrimSpace(props[runtime.ExactlyOnceSourceSupport]) != "enabled" {
		return file, err
	}
	if props[runtime.GroupID] == "" {
		if props[runtime.GroupID], err = standaloneGroupID(offsetsPath); err != nil {
			return nil, err
		}
	}
	t, err := runtime.OffsetTopicSettings(props, "")
	if err != nil {
		return nil, err
	}
	opts, err := runtime.OffsetTopicClientOpts(props)
	if err != nil {
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, offsets.ReadTimeout)
	defer cancel()
	store, err := offsets.OpenTopic(openCtx, opts, t, log)
	if err != nil {
		return nil, fmt.Errorf("%s=enabled: open offsets topic: %w", runtime.ExactlyOnceSourceSupport, err)
	}
	n, err := offsets.Migrate(openCtx, file, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	if n > 0 {
		log.Info("copied the offsets file into the offsets topic", "file", offsetsPath, "topic", t.Name, "offsets", n)
	}
	log.Info("exactly-once source delivery enabled", "offsets_topic", t.Name, runtime.GroupID, props[runtime.GroupID])
	return store, nil
}

// standaloneGroupID is the group.id of a standalone worker with exactly-once enabled that sets
// none: kconnect-standalone-<first 12 hex digits of the SHA-256 of the offsets file's absolute
// path>. It is stable across restarts of one worker, so a restarted task's producer fences the
// transactions its killed predecessor left open, and differs between workers with their own files.
func standaloneGroupID(offsetsPath string) (string, error) {
	abs, err := filepath.Abs(offsetsPath)
	if err != nil {
		return "", fmt.Errorf("%s: %w", runtime.OffsetStorageFile, err)
	}
	sum := sha256.Sum256([]byte(abs))
	return "kconnect-standalone-" + hex.EncodeToString(sum[:])[:12], nil
}
