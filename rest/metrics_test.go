package rest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestMetricsOnTheRESTAndTheMetricsListener serves a metrics handler: GET /metrics answers with it
// on the REST listener (behind basic auth there, as every endpoint) and, without credentials, on
// the metrics listener, which serves nothing else.
func TestMetricsOnTheRESTAndTheMetricsListener(t *testing.T) {
	cfg, err := ConfigFromWorker(map[string]string{"listeners": "http://127.0.0.1:0", "metrics.listener": "http://127.0.0.1:0"})
	if err != nil || cfg.MetricsListener != "http://127.0.0.1:0" {
		t.Fatalf("ConfigFromWorker: %+v, %v", cfg, err)
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("kconnect_worker_task_count 3\n"))
	})
	s, _ := newTestServer(t, func(c *Config) {
		c.Metrics, c.MetricsListener = metrics, cfg.MetricsListener
		c.BasicAuthFile = writeCredentials(t, "user: secret")
	})
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	if s.MetricsAddr() == "" || s.MetricsAddr() == s.Addrs()[0] {
		t.Fatalf("metrics listener at %q, REST at %v", s.MetricsAddr(), s.Addrs())
	}
	for _, c := range []struct {
		url, user string
		status    int
		body      string
	}{
		{"http://" + s.MetricsAddr() + "/metrics", "", 200, "kconnect_worker_task_count 3"},
		{"http://" + s.MetricsAddr() + "/connectors", "", 404, ""},
		{"http://" + s.Addrs()[0] + "/metrics", "", 401, ""},
		{"http://" + s.Addrs()[0] + "/metrics", "user", 200, "kconnect_worker_task_count 3"},
	} {
		req, err := http.NewRequest("GET", c.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.user != "" {
			req.SetBasicAuth(c.user, "secret")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(b), c.body) {
			t.Errorf("GET %s as %q: %d %q, want %d %q", c.url, c.user, resp.StatusCode, b, c.status, c.body)
		}
	}
}
