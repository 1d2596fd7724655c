package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kconnect/kconnect/runtime/herder"
)

type serverInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

func (s *Server) serverInfo(w http.ResponseWriter, r *http.Request) {
	id, err := s.h.KafkaClusterID(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serverInfo{Version: s.cfg.Version, Commit: s.cfg.Commit, KafkaClusterID: id})
}

const startingMessage = "Worker is still starting up."

// workerStatus is upstream's body of GET /health, whatever its status code.
type workerStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// health answers 200 once the herder is ready, 503 while it reports that it is still starting
// or that something it depends on is failing, and 500 when it does not answer within
// HealthCheckTimeout.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.HealthCheckTimeout)
	defer cancel()
	err := s.h.Ready(ctx)
	var unhealthy *herder.UnhealthyError
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, workerStatus{"healthy", "Worker has completed startup and is ready to handle requests."})
	case errors.As(err, &unhealthy):
		writeJSON(w, http.StatusServiceUnavailable, workerStatus{"unhealthy", unhealthy.Msg})
	case ctx.Err() != nil:
		writeJSON(w, http.StatusInternalServerError, workerStatus{"unhealthy", "Worker was unable to handle this request and may be unable to handle other requests."})
	default:
		// The herder's error says what the worker is busy with; upstream appends such details.
		msg := err.Error()
		if !strings.HasPrefix(msg, startingMessage) {
			msg = startingMessage + " " + msg
		}
		writeJSON(w, http.StatusServiceUnavailable, workerStatus{"starting", msg})
	}
}

func (s *Server) listLoggers(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Loggers.Levels())
}

func (s *Server) getLogger(w http.ResponseWriter, r *http.Request) {
	name := param(r, "logger")
	lvl, ok := s.cfg.Loggers.Level(name)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("Logger %s not found.", name))
		return
	}
	writeJSON(w, http.StatusOK, lvl)
}

// setLogger changes a logger's level. As upstream, an unknown level is 404, scope=cluster
// answers 204 (in standalone mode this worker is the whole cluster) and any other scope falls
// back to worker, which answers 200 with the affected loggers.
func (s *Server) setLogger(w http.ResponseWriter, r *http.Request) {
	name := param(r, "logger")
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	m, msg := configMap(body)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	level := m["level"]
	if level == nil {
		writeError(w, http.StatusBadRequest, "Desired 'level' parameter was not specified in request.")
		return
	}
	affected, err := s.cfg.Loggers.SetLevel(name, *level)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("invalid log level '%s'.", *level))
		return
	}
	s.log.Info("Logger level changed", "namespace", name, "level", strings.ToUpper(*level), "affected", len(affected))
	scope := strings.ToLower(r.URL.Query().Get("scope"))
	if scope == "cluster" {
		noContent(w, http.StatusNoContent)
		return
	}
	if scope != "" && scope != "worker" {
		s.log.Warn("Invalid scope in request to adjust logging level; defaulting to worker", "scope", scope)
	}
	writeJSON(w, http.StatusOK, nonNil(affected))
}
