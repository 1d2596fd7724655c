package main_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/internal/testenv"
	"github.com/kconnect/kconnect/internal/workertest"
)

// TestProviderSecretsStayInTheTask checks that values from config providers reach the task that
// uses them and nothing else: as upstream, task configs are kept and shown with the references,
// which are resolved only when a task starts. Every REST endpoint that shows a connector, the
// state file and the worker's debug log are searched for the resolved values.
func TestProviderSecretsStayInTheTask(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.Mkdir(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	password, token, envSecret := secret("pw"), secret("tok"), secret("env")
	output := filepath.Join(dir, "out.txt")
	writeFile(t, filepath.Join(secrets, "db.properties"), "db.password="+password+"\nout.path="+output+"\n")
	writeFile(t, filepath.Join(secrets, "token"), token)
	t.Setenv("KCONNECT_E2E_SECRET", envSecret) // the worker process inherits it

	props := workertest.WorkerProps(t, dir)
	props["config.providers"] = "file,env,directory"
	props["config.providers.file.class"] = "org.apache.kafka.common.config.provider.FileConfigProvider"
	props["config.providers.file.param.allowed.paths"] = secrets
	props["config.providers.env.class"] = "org.apache.kafka.common.config.provider.EnvVarConfigProvider"
	props["config.providers.env.param.allowlist.pattern"] = "KCONNECT_E2E_.*"
	props["config.providers.directory.class"] = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
	props["config.providers.directory.param.allowed.paths"] = secrets
	props["kconnect.log.level"] = "DEBUG"
	w := workertest.Start(t, dir, props)
	r := rest{t, w}

	topic := testenv.Topic(t, "secrets")
	refs := map[string]string{
		"file":              "${file:" + secrets + "/db.properties:out.path}",
		"database.password": "${file:" + secrets + "/db.properties:db.password}",
		"api.token":         "${directory:" + secrets + ":token}",
		"env.secret":        "${env:KCONNECT_E2E_SECRET}",
	}
	config := map[string]string{"connector.class": "FileStreamSink", "topics": topic}
	for k, v := range refs {
		config[k] = v
	}
	leaks := func(what string, b []byte) {
		t.Helper()
		for _, s := range []string{password, token, envSecret} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s shows the resolved secret %s:\n%s", what, s, b)
			}
		}
	}
	leaks("POST /connectors", r.call("POST", "/connectors", map[string]any{"name": "s", "config": config}, 201))
	r.waitState("s", "RUNNING", 1)
	// The task got the resolved values: it writes to the file the provider named.
	produce(t, w.Bootstrap, topic, `"a"`, `"b"`)
	waitLines(t, w, output, []string{"a", "b"})

	var tasks []struct {
		Config map[string]string `json:"config"`
	}
	r.get("GET", "/connectors/s/tasks", nil, 200, &tasks)
	if len(tasks) != 1 {
		t.Fatalf("GET /connectors/s/tasks = %v, want one task", tasks)
	}
	for k, v := range refs {
		if tasks[0].Config[k] != v {
			t.Errorf("task config %s = %q, want the reference %q", k, tasks[0].Config[k], v)
		}
	}
	check := func() {
		t.Helper()
		for _, path := range []string{"/connectors", "/connectors?expand=info&expand=status", "/connectors/s",
			"/connectors/s/config", "/connectors/s/status", "/connectors/s/tasks", "/connectors/s/tasks/0/status",
			"/connectors/s/topics", "/connectors/s/offsets"} {
			leaks("GET "+path, r.call("GET", path, nil, 200))
		}
	}
	check()
	leaks("PUT validate", r.call("PUT", "/connector-plugins/FileStreamSink/config/validate", config, 200))
	leaks("PATCH config", r.call("PATCH", "/connectors/s/config", map[string]any{"flush.note": "patched"}, 200))
	r.waitState("s", "RUNNING", 1)
	leaks("POST restart", r.call("POST", "/connectors/s/restart?includeTasks=true", nil, 202))
	r.waitState("s", "RUNNING", 1)
	check()
	state, err := os.ReadFile(filepath.Join(dir, "connectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	leaks("connectors.json", state)
	if err := w.Stop(); err != nil {
		t.Fatalf("graceful stop: %v\n%s", err, w.Log())
	}
	log := w.Log()
	if !strings.Contains(log, "level=DEBUG") {
		t.Fatalf("worker log has no debug lines:\n%s", log)
	}
	leaks("the worker log", []byte(log))
}

// TestConfigProvidersOffByDefault checks that a worker without config.providers resolves
// nothing: references to the worker's environment and files are rejected, naming the key.
func TestConfigProvidersOffByDefault(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "secret.txt"), secret("file"))
	w := workertest.Start(t, dir, workertest.WorkerProps(t, dir))
	r := rest{t, w}
	for key, ref := range map[string]string{
		"x.path": "${directory:" + dir + ":secret.txt}",
		"y.home": "${env:HOME}",
	} {
		config := map[string]string{"connector.class": "FileStreamSink", "topics": "t", "file": filepath.Join(dir, "out.txt"), key: ref}
		r.fail("POST", "/connectors", map[string]any{"name": "probe", "config": config}, 400,
			"config "+key, "the worker configures none (config.providers)")
	}
	var names []string
	r.get("GET", "/connectors", nil, 200, &names)
	if len(names) != 0 {
		t.Errorf("connectors after rejected requests = %v", names)
	}
}

// secret returns a value no test output holds by chance.
func secret(prefix string) string {
	return fmt.Sprintf("%s-%016x", prefix, rand.Uint64())
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
