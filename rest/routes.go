package rest

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

//go:embed openapi.json
var openAPIDocument []byte

// router builds the handler of one set of listeners: the Connect API (api) and/or the
// /admin endpoints (admin).
func (s *Server) router(api, admin bool) http.Handler {
	r := chi.NewRouter()
	r.Use(s.recoverer, s.prepare)
	if s.cfg.AllowedOrigins != "" {
		r.Use(newCORS(s.cfg.AllowedOrigins, s.cfg.AllowedMethods))
	}
	if s.users != nil {
		r.Use(s.authenticate)
	}
	r.Use(s.limitBody, middleware.GetHead)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) { writeError(w, http.StatusNotFound, msgNotFound) })
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		path := chi.RouteContext(req.Context()).RoutePath
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			if r.Match(chi.NewRouteContext(), m, path) {
				w.Header().Add("Allow", m)
			}
		}
		writeError(w, http.StatusMethodNotAllowed, msgMethodNotAllowed)
	})

	if api {
		r.Get("/", s.serverInfo)
		r.Get("/health", s.health)
		r.Get("/openapi.json", serveOpenAPI)

		r.Get("/connectors", s.listConnectors)
		r.Post("/connectors", s.createConnector)
		r.Get("/connectors/{connector}", s.getConnector)
		r.Delete("/connectors/{connector}", s.deleteConnector)
		r.Get("/connectors/{connector}/config", s.getConnectorConfig)
		r.Put("/connectors/{connector}/config", s.putConnectorConfig)
		r.Patch("/connectors/{connector}/config", s.patchConnectorConfig)
		r.Get("/connectors/{connector}/status", s.connectorStatus)
		r.Post("/connectors/{connector}/restart", s.restartConnector)
		r.Put("/connectors/{connector}/pause", s.pauseConnector)
		r.Put("/connectors/{connector}/resume", s.resumeConnector)
		r.Put("/connectors/{connector}/stop", s.stopConnector)
		r.Get("/connectors/{connector}/tasks", s.taskConfigs)
		r.Post("/connectors/{connector}/tasks", s.putTaskConfigs)
		r.Put("/connectors/{connector}/fence", s.fenceZombies)
		r.Get("/connectors/{connector}/tasks/{task}/status", s.taskStatus)
		r.Post("/connectors/{connector}/tasks/{task}/restart", s.restartTask)
		r.Get("/connectors/{connector}/topics", s.connectorTopics)
		r.Put("/connectors/{connector}/topics/reset", s.resetConnectorTopics)
		r.Get("/connectors/{connector}/offsets", s.getOffsets)
		r.Patch("/connectors/{connector}/offsets", s.alterOffsets)
		r.Delete("/connectors/{connector}/offsets", s.resetOffsets)

		r.Get("/connector-plugins", s.listPlugins)
		r.Get("/connector-plugins/{plugin}/config", s.pluginConfig)
		r.Put("/connector-plugins/{plugin}/config/validate", s.validateConfig)
		if s.cfg.Metrics != nil {
			r.Get("/metrics", s.cfg.Metrics.ServeHTTP)
		}
	}
	if admin && s.cfg.Loggers != nil {
		r.Get("/admin/loggers", s.listLoggers)
		r.Get("/admin/loggers/{logger}", s.getLogger)
		r.Put("/admin/loggers/{logger}", s.setLogger)
	}
	return r
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openAPIDocument)
}

// recoverer turns a panic in a handler into a 500 with the usual error body.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("REST handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, http.StatusInternalServerError, fmt.Sprintf("Internal server error: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// prepare routes on the escaped path without a trailing slash (Jersey ignores one), bounds the
// request's herder calls by RequestTimeout and logs the request at debug level.
func (s *Server) prepare(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.EscapedPath()
		if len(path) > 1 {
			path = strings.TrimRight(path, "/")
			if path == "" {
				path = "/"
			}
		}
		chi.RouteContext(r.Context()).RoutePath = path
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r.WithContext(ctx))
		s.log.Debug("REST request", "method", r.Method, "path", r.URL.Path, "status", ww.Status(),
			"bytes", ww.BytesWritten(), "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}

// limitBody rejects bodies over MaxBodyBytes: at once when Content-Length says so, otherwise
// when the handler reads past the limit.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBodyBytes {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("Request body exceeds the limit of %d bytes", s.cfg.MaxBodyBytes))
			return
		}
		r.Body = &recordedBody{ReadCloser: http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)}
		next.ServeHTTP(w, r)
	})
}

// authenticate requires HTTP basic credentials listed in the credentials file, as upstream's
// BasicAuthSecurityRestExtension does (whose 401 body is plain text; ours is the JSON error).
// The internal requests of distributed workers are exempt, as upstream's JaasBasicAuthFilter
// exempts them: workers do not hold user credentials, and the session key signs them.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if internalRequest(r) {
			next.ServeHTTP(w, r)
			return
		}
		if user, pass, ok := basicAuth(r.Header.Get("Authorization")); ok {
			if want, known := s.users[user]; known && subtle.ConstantTimeCompare([]byte(pass), []byte(want)) == 1 {
				next.ServeHTTP(w, r)
				return
			}
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="kconnect", charset="UTF-8"`)
		writeError(w, http.StatusUnauthorized, "User cannot access the resource.")
	})
}

var (
	taskConfigsPath = regexp.MustCompile(`^/?connectors/[^/]+/tasks/?$`)
	fencePath       = regexp.MustCompile(`^/?connectors/[^/]+/fence/?$`)
)

// internalRequest reports whether r is one workers of a cluster send each other.
func internalRequest(r *http.Request) bool {
	path := r.URL.EscapedPath()
	return r.Method == http.MethodPost && taskConfigsPath.MatchString(path) ||
		r.Method == http.MethodPut && fencePath.MatchString(path)
}

// basicAuth parses a basic Authorization header, the scheme matched case-insensitively.
func basicAuth(header string) (user, pass string, ok bool) {
	scheme, cred, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	user, pass, found = strings.Cut(string(raw), ":")
	if !found || user == "" {
		return "", "", false
	}
	return user, pass, true
}

// Defaults of Jetty's CrossOriginFilter, which upstream uses; Authorization is added so that
// browser clients can send basic credentials.
const (
	corsDefaultMethods = "GET,POST,HEAD"
	corsAllowedHeaders = "X-Requested-With,Content-Type,Accept,Origin,Authorization"
	corsMaxAge         = "1800"
)

// newCORS answers cross-origin requests from the allowed origins like Jetty's CrossOriginFilter:
// the origin is echoed with credentials allowed, and preflight requests for an allowed method are
// answered directly.
func newCORS(origins, methods string) func(http.Handler) http.Handler {
	var patterns []*regexp.Regexp
	anyOrigin := false
	for _, o := range splitList(origins) {
		if o == "*" {
			anyOrigin = true
			continue
		}
		quoted := strings.ReplaceAll(regexp.QuoteMeta(o), `\*`, ".*")
		patterns = append(patterns, regexp.MustCompile("^"+quoted+"$"))
	}
	if methods == "" {
		methods = corsDefaultMethods
	}
	allowedMethods := map[string]bool{}
	for _, m := range splitList(methods) {
		allowedMethods[strings.ToUpper(m)] = true
	}
	allowed := func(origin string) bool {
		if anyOrigin {
			return true
		}
		for _, p := range patterns {
			if p.MatchString(origin) {
				return true
			}
		}
		return false
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" || !allowed(origin) {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			reqMethod := r.Header.Get("Access-Control-Request-Method")
			if r.Method == http.MethodOptions && reqMethod != "" {
				if !allowedMethods[strings.ToUpper(reqMethod)] {
					next.ServeHTTP(w, r)
					return
				}
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Set("Access-Control-Allow-Methods", methods)
				h.Set("Access-Control-Allow-Headers", corsAllowedHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			next.ServeHTTP(w, r)
		})
	}
}
