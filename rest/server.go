package rest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kconnect/kconnect/internal/properties"
	"github.com/kconnect/kconnect/runtime/herder"
)

// Server serves the Kafka Connect REST API for a Herder.
type Server struct {
	h     herder.Herder
	cfg   Config
	log   *slog.Logger
	users map[string]string

	main    []listenerSpec
	admin   []listenerSpec
	metrics []listenerSpec // at most one: Config.MetricsListener
	// handler serves Listeners; adminHandler serves AdminListeners when they are separate.
	handler      http.Handler
	adminHandler http.Handler

	mu        sync.Mutex
	servers   []*http.Server
	bound     []net.Listener
	adminAddr []string
	mainAddr  []string
	// metricsAddr is where the metrics listener is bound, "" without one.
	metricsAddr string
	serveWG     sync.WaitGroup
}

// New builds a server for h; it does not listen until Start. It fails on invalid listeners, an
// https listener without TLS configuration, or an unreadable basic-auth credentials file.
func New(h herder.Herder, cfg Config, log *slog.Logger) (*Server, error) {
	if h == nil {
		return nil, errors.New("rest: nil herder")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Listeners) == 0 {
		cfg.Listeners = []string{DefaultListener}
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.HealthCheckTimeout <= 0 {
		cfg.HealthCheckTimeout = DefaultHealthCheckTimeout
	}
	if cfg.Version == "" || cfg.Commit == "" {
		v, c := buildInfo()
		cfg.Version = orDefault(cfg.Version, v)
		cfg.Commit = orDefault(cfg.Commit, c)
	}
	s := &Server{h: h, cfg: cfg, log: log}
	for _, l := range cfg.Listeners {
		spec, err := parseListener(l)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyListeners, err)
		}
		if spec.scheme == "https" && cfg.TLS == nil {
			return nil, fmt.Errorf("%s: https listener %s needs TLS settings (listeners.https.ssl.*)", KeyListeners, l)
		}
		s.main = append(s.main, spec)
	}
	for _, l := range cfg.AdminListeners {
		spec, err := parseListener(l)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyAdminListeners, err)
		}
		if spec.scheme == "https" && cfg.AdminTLS == nil {
			return nil, fmt.Errorf("%s: https listener %s needs TLS settings (admin.listeners.https.ssl.*)", KeyAdminListeners, l)
		}
		s.admin = append(s.admin, spec)
	}
	if cfg.MetricsListener != "" && cfg.Metrics != nil {
		spec, err := parseListener(cfg.MetricsListener)
		if err != nil || spec.scheme != "http" {
			return nil, fmt.Errorf("%s: %q must be an http:// listener", KeyMetricsListener, cfg.MetricsListener)
		}
		s.metrics = append(s.metrics, spec)
	}
	if cfg.BasicAuthFile != "" {
		p, err := properties.ParseFile(cfg.BasicAuthFile)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", KeyBasicAuthFile, err)
		}
		s.users = p.Map()
		if len(s.users) == 0 {
			return nil, fmt.Errorf("%s: %s lists no users", KeyBasicAuthFile, cfg.BasicAuthFile)
		}
	}
	adminOnMain := cfg.AdminListeners == nil
	s.handler = s.router(true, adminOnMain)
	if len(s.admin) > 0 {
		s.adminHandler = s.router(false, true)
	}
	return s, nil
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// buildInfo returns the module version and VCS revision the binary was built from.
func buildInfo() (version, commit string) {
	version, commit = "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version, commit
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return version, commit
}

// Handler returns the handler of the main listeners, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.handler }

// AdminHandler returns the handler of the separate admin listeners, or nil if there are none.
func (s *Server) AdminHandler() http.Handler { return s.adminHandler }

// Start binds every listener and serves them in the background; it returns once all are bound,
// or the first error (closing what it bound). ctx bounds only the binding.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.servers != nil {
		return errors.New("rest: server already started")
	}
	mainSrv := s.newHTTPServer(s.handler)
	s.servers = []*http.Server{mainSrv}
	var adminSrv *http.Server
	if s.adminHandler != nil {
		adminSrv = s.newHTTPServer(s.adminHandler)
		s.servers = append(s.servers, adminSrv)
	}
	type job struct {
		srv *http.Server
		ln  net.Listener
	}
	var jobs []job
	bind := func(spec listenerSpec, srv *http.Server, admin bool) (string, error) {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", spec.addr())
		if err != nil {
			return "", fmt.Errorf("rest: listen on %s: %w", spec.raw, err)
		}
		s.bound = append(s.bound, ln)
		addr := ln.Addr().String()
		if spec.scheme == "https" {
			c := s.cfg.TLS
			if admin {
				c = s.cfg.AdminTLS
			}
			ln = tls.NewListener(ln, c)
		}
		jobs = append(jobs, job{srv, ln})
		return addr, nil
	}
	fail := func(err error) error {
		for _, ln := range s.bound {
			ln.Close()
		}
		s.bound, s.servers, s.mainAddr, s.adminAddr, s.metricsAddr = nil, nil, nil, nil, ""
		return err
	}
	for _, spec := range s.main {
		addr, err := bind(spec, mainSrv, false)
		if err != nil {
			return fail(err)
		}
		s.mainAddr = append(s.mainAddr, addr)
	}
	for _, spec := range s.admin {
		addr, err := bind(spec, adminSrv, true)
		if err != nil {
			return fail(err)
		}
		s.adminAddr = append(s.adminAddr, addr)
	}
	for _, spec := range s.metrics {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.cfg.Metrics)
		srv := s.newHTTPServer(mux)
		s.servers = append(s.servers, srv)
		addr, err := bind(spec, srv, false)
		if err != nil {
			return fail(err)
		}
		s.metricsAddr = addr
	}
	for _, j := range jobs {
		s.serveWG.Add(1)
		go func() {
			defer s.serveWG.Done()
			if err := j.srv.Serve(j.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("REST listener failed", "addr", j.ln.Addr().String(), "err", err)
			}
		}()
	}
	s.log.Info("REST server listening", "listeners", s.mainAddr, "admin_listeners", s.adminAddr, "metrics_listener", s.metricsAddr,
		"advertised_url", s.advertisedURL())
	return nil
}

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      s.cfg.RequestTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// Shutdown stops accepting requests and waits for those in flight until ctx is done, then
// closes the remaining connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	servers := s.servers
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			srv.Close()
		}
	}
	s.serveWG.Wait()
	return errors.Join(errs...)
}

// MetricsAddr returns the host:port the metrics listener is bound to, "" without one.
func (s *Server) MetricsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.metricsAddr
}

// Addrs returns the host:port each main listener is bound to, in the order of Listeners; with
// port 0 this is the port picked. Empty before Start.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.mainAddr...)
}

// AdminAddrs returns the host:port each separate admin listener is bound to.
func (s *Server) AdminAddrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.adminAddr...)
}

// AdvertisedURL returns the URL other workers and clients should use, such as
// "http://worker1:8083/", derived as upstream does: the scheme from rest.advertised.listener or
// the listeners (http preferred), the host from rest.advertised.host.name or the listener or this
// machine's host name, the port from rest.advertised.port or the listener (its bound port when
// configured as 0, so call it after Start).
func (s *Server) AdvertisedURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.advertisedURL()
}

func (s *Server) advertisedURL() string {
	scheme := s.cfg.AdvertisedListener
	if scheme == "" {
		scheme = "https"
		for _, l := range s.main {
			if l.scheme == "http" {
				scheme = "http"
				break
			}
		}
	}
	idx := -1
	for i, l := range s.main {
		if l.scheme == scheme {
			idx = i
			break
		}
	}
	host := s.cfg.AdvertisedHostName
	if host == "" && idx >= 0 {
		host = s.main[idx].host
	}
	if host == "" {
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "localhost"
		}
	}
	port := s.cfg.AdvertisedPort
	if port == 0 && idx >= 0 {
		port = s.main[idx].port
		if port == 0 && idx < len(s.mainAddr) {
			if _, p, err := net.SplitHostPort(s.mainAddr[idx]); err == nil {
				port, _ = strconv.Atoi(p)
			}
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)) + "/"
}
