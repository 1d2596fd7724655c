package rest

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/internal/logging"
)

func TestConfigFromWorkerReadsUpstreamKeys(t *testing.T) {
	creds := writeCredentials(t, "u: p\n")
	cfg, err := ConfigFromWorker(map[string]string{
		"listeners":                        "HTTP://myhost:8083, http://[::1]:9000",
		"admin.listeners":                  "http://localhost:8084",
		"rest.advertised.host.name":        "connect-1.example.com",
		"rest.advertised.port":             "18083",
		"rest.advertised.listener":         "HTTP",
		"access.control.allow.origin":      "*",
		"access.control.allow.methods":     "GET,PUT",
		"topic.tracking.enable":            "false",
		"topic.tracking.allow.reset":       "false",
		"rest.basic.auth.credentials.file": creds,
		"rest.extension.classes":           "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
		"rest.request.body.max.bytes":      "1024",
		"bootstrap.servers":                "localhost:9092",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listeners:                 []string{"HTTP://myhost:8083", "http://[::1]:9000"},
		AdminListeners:            []string{"http://localhost:8084"},
		AdvertisedHostName:        "connect-1.example.com",
		AdvertisedPort:            18083,
		AdvertisedListener:        "http",
		AllowedOrigins:            "*",
		AllowedMethods:            "GET,PUT",
		BasicAuthFile:             creds,
		MaxBodyBytes:              1024,
		DisableTopicTracking:      true,
		DisableTopicTrackingReset: true,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("ConfigFromWorker =\n%+v\nwant\n%+v", cfg, want)
	}

	cfg, err = ConfigFromWorker(map[string]string{})
	if err != nil || cfg.Listeners != nil || cfg.AdminListeners != nil || cfg.DisableTopicTracking {
		t.Errorf("defaults: %+v, %v", cfg, err)
	}
	cfg, err = ConfigFromWorker(map[string]string{"rest.port": "8084"})
	if err != nil || !reflect.DeepEqual(cfg.Listeners, []string{"http://:8084"}) {
		t.Errorf("Kafka 3.x rest.port: %v, %v", cfg.Listeners, err)
	}
	cfg, err = ConfigFromWorker(map[string]string{"rest.host.name": "10.0.0.1", "listeners": "http://:9999"})
	if err != nil || !reflect.DeepEqual(cfg.Listeners, []string{"http://:9999"}) {
		t.Errorf("listeners must win over rest.host.name: %v, %v", cfg.Listeners, err)
	}
	cfg, err = ConfigFromWorker(map[string]string{"admin.listeners": " "})
	if err != nil || cfg.AdminListeners == nil || len(cfg.AdminListeners) != 0 {
		t.Errorf("blank admin.listeners must disable admin endpoints: %#v, %v", cfg.AdminListeners, err)
	}
}

func TestConfigFromWorkerRejectsBadValues(t *testing.T) {
	cases := map[string]map[string]string{
		"listeners":                                                  {"listeners": ""},
		"doesn't have the right format":                              {"listeners": "localhost:8083"},
		`protocol must be either "http" or "https"`:                  {"listeners": "ftp://:21"},
		"invalid port":                                               {"listeners": "http://:70000"},
		"rest.advertised.port":                                       {"rest.advertised.port": "eighty"},
		"rest.advertised.listener":                                   {"rest.advertised.listener": "ftp"},
		"topic.tracking.enable":                                      {"topic.tracking.enable": "yes"},
		"rest.request.body.max.bytes":                                {"rest.request.body.max.bytes": "-1"},
		"set rest.basic.auth.credentials.file":                       {"rest.extension.classes": "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"},
		"com.example.Ext is not supported":                           {"rest.extension.classes": "com.example.Ext"},
		"metrics.listener":                                           {"metrics.listener": "https://:9404"},
		"metrics.listener: listener \"http://:99999\": invalid port": {"metrics.listener": "http://:99999"},
	}
	for want, props := range cases {
		if _, err := ConfigFromWorker(props); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: err = %v, want %q", props, err, want)
		}
	}
}

func TestStartPortZeroMultipleListenersAndShutdown(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.Listeners = []string{"http://127.0.0.1:0", "http://127.0.0.1:0"} })
	if s.Addrs() != nil {
		t.Errorf("Addrs before Start = %v", s.Addrs())
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	addrs := s.Addrs()
	if len(addrs) != 2 || addrs[0] == addrs[1] {
		t.Fatalf("Addrs = %v", addrs)
	}
	for _, a := range addrs {
		status, body, err := get(t, http.DefaultClient, "http://"+a+"/connectors")
		if err != nil || status != 200 || strings.TrimSpace(body) != "[]" {
			t.Errorf("GET %s: %d %q %v", a, status, body, err)
		}
	}
	if u := s.AdvertisedURL(); u != "http://"+addrs[0]+"/" {
		t.Errorf("AdvertisedURL = %q, want http://%s/", u, addrs[0])
	}
	if err := s.Start(t.Context()); err == nil {
		t.Error("second Start succeeded")
	}
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("tcp", addrs[0]); err == nil {
		t.Error("listener still accepts connections after Shutdown")
	}
}

func TestStartFailsOnBusyPortAndReleasesTheOthers(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()
	s, _ := newTestServer(t, func(c *Config) { c.Listeners = []string{"http://" + freeAddr, "http://" + busy.Addr().String()} })
	if err := s.Start(t.Context()); err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("Start = %v", err)
	}
	// The first listener was bound and must have been released.
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("first listener not released: %v", err)
	}
	ln.Close()
}

// tlsPlaceholder satisfies New for https listeners that are never started.
var tlsPlaceholder tls.Config

func TestAdvertisedURL(t *testing.T) {
	host, _ := os.Hostname()
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Listeners: []string{"http://:8083"}}, "http://" + host + ":8083/"},
		{Config{Listeners: []string{"http://0.0.0.0:8083"}, AdvertisedHostName: "w1.example", AdvertisedPort: 80}, "http://w1.example:80/"},
		{Config{Listeners: []string{"https://h:8443", "http://h:8083"}}, "http://h:8083/"},
		{Config{Listeners: []string{"https://h:8443", "http://h:8083"}, AdvertisedListener: "https"}, "https://h:8443/"},
		{Config{Listeners: []string{"http://[::1]:8083"}}, "http://[::1]:8083/"},
	}
	for _, c := range cases {
		c.cfg.TLS = &tlsPlaceholder
		s, err := New(newMemHerder(), c.cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.AdvertisedURL(); got != c.want {
			t.Errorf("%v: AdvertisedURL = %q, want %q", c.cfg.Listeners, got, c.want)
		}
	}
}

func TestSeparateAdminListenerOverTheNetwork(t *testing.T) {
	loggers := logging.New(&bytes.Buffer{}, "json", slog.LevelInfo)
	s, _ := newTestServer(t, func(c *Config) {
		c.AdminListeners = []string{"http://127.0.0.1:0"}
		c.Loggers = loggers
	})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	status, body, err := get(t, http.DefaultClient, "http://"+s.AdminAddrs()[0]+"/admin/loggers/root")
	if err != nil || status != 200 || !strings.Contains(body, `"level":"INFO"`) {
		t.Errorf("admin listener: %d %q %v", status, body, err)
	}
	if status, _, _ := get(t, http.DefaultClient, "http://"+s.Addrs()[0]+"/admin/loggers/root"); status != 404 {
		t.Errorf("main listener serves admin endpoints: %d", status)
	}
}
