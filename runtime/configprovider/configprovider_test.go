package configprovider

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// allProviders is a worker configuration with the three built-in providers under their
// conventional aliases and no restrictions.
var allProviders = map[string]string{
	"config.providers":                 "env,file,directory",
	"config.providers.env.class":       EnvClass,
	"config.providers.file.class":      FileClass,
	"config.providers.directory.class": DirectoryClass,
}

// resolveAll resolves props with allProviders.
func resolveAll(t *testing.T, props map[string]string) (map[string]string, error) {
	t.Helper()
	r, err := NewResolver(allProviders)
	if err != nil {
		t.Fatal(err)
	}
	return r.Resolve(props)
}

func TestResolveEnvFileAndDirectoryReferences(t *testing.T) {
	dir := t.TempDir()
	propsFile := filepath.Join(dir, "secrets.properties")
	// Java properties syntax: ':' separator, escaped '=' in the value, a continuation line.
	writeFile(t, propsFile, "db.user: alice\ndb.password=s3cr\\=t\nlong = a\\\n   b\n")
	secretDir := filepath.Join(dir, "mounted")
	if err := os.Mkdir(secretDir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(secretDir, "token"), "tok\n")
	t.Setenv("KCONNECT_TEST_HOST", "db.example.com")

	in := map[string]string{
		"connection.url":      "jdbc:postgresql://${env:KCONNECT_TEST_HOST}:5432/app",
		"connection.user":     "${file:" + propsFile + ":db.user}",
		"connection.password": "${file:" + propsFile + ":db.password}",
		"long":                "${file:" + propsFile + ":long}",
		"api.token":           "${directory:" + secretDir + ":token}",
		"topic.format":        "${topic}-${timestamp}",
		"plain":               "no references",
	}
	got, err := resolveAll(t, in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"connection.url":      "jdbc:postgresql://db.example.com:5432/app",
		"connection.user":     "alice",
		"connection.password": "s3cr=t",
		"long":                "ab",
		"api.token":           "tok\n",
		"topic.format":        "${topic}-${timestamp}",
		"plain":               "no references",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve = %v\nwant %v", got, want)
	}
	if in["connection.user"] == "alice" {
		t.Error("Resolve modified its input")
	}
}

func TestResolveErrorsNameTheKeyAndNeverTheSecret(t *testing.T) {
	dir := t.TempDir()
	propsFile := filepath.Join(dir, "s.properties")
	writeFile(t, propsFile, "present=topsecret\n")
	cases := []struct {
		value string
		want  string
	}{
		{"${env:KCONNECT_TEST_SURELY_UNSET_VAR}", "environment variable KCONNECT_TEST_SURELY_UNSET_VAR is not set"},
		{"${env:some/path:VAR}", "takes no path"},
		{"${vault:secret/db:password}", `unknown config provider "vault"`},
		{"${file:" + propsFile + ":absent}", "key absent not found in " + propsFile},
		{"${file:" + filepath.Join(dir, "nope.properties") + ":k}", "nope.properties"},
		{"${file:justakey}", "a path is required"},
		{"${directory:" + dir + ":missing}", "file missing not found in directory " + dir},
		{"${directory:" + dir + ":../etc}", "is not a file name"},
	}
	for _, c := range cases {
		_, err := resolveAll(t, map[string]string{"database.password": "x" + c.value, "ok": "fine"})
		if err == nil {
			t.Errorf("%s: resolved without error", c.value)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "config database.password") || !strings.Contains(msg, c.want) {
			t.Errorf("%s: error %q lacks key name or %q", c.value, msg, c.want)
		}
		if strings.Contains(msg, "topsecret") {
			t.Errorf("%s: error %q leaks a secret", c.value, msg)
		}
	}
}

// TestNoProviderUnlessConfigured checks that, as upstream, a worker without config.providers
// resolves nothing: a REST client cannot read the worker's environment or files.
func TestNoProviderUnlessConfigured(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "s.properties"), "k=topsecret\n")
	writeFile(t, filepath.Join(dir, "token"), "topsecret")
	t.Setenv("KCONNECT_TEST_SECRET", "topsecret")
	for _, worker := range []map[string]string{nil, {"bootstrap.servers": "localhost:9092"}, {"config.providers": ""}} {
		r, err := NewResolver(worker)
		if err != nil {
			t.Fatalf("NewResolver(%v): %v", worker, err)
		}
		for _, value := range []string{
			"${env:KCONNECT_TEST_SECRET}",
			"${file:" + filepath.Join(dir, "s.properties") + ":k}",
			"${directory:" + dir + ":token}",
		} {
			got, err := r.Resolve(map[string]string{"x": value})
			if err == nil || !strings.Contains(err.Error(), "config x") || !strings.Contains(err.Error(), "the worker configures none (config.providers)") {
				t.Errorf("%v: Resolve(%s) = %v, %v; want an error naming the key and config.providers", worker, value, got, err)
			}
			if err != nil && strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error %q leaks the secret", err)
			}
		}
		if got, err := r.Resolve(map[string]string{"plain": "v", "format": "${topic}"}); err != nil || got["plain"] != "v" || got["format"] != "${topic}" {
			t.Errorf("%v: values without references = %v, %v", worker, got, err)
		}
	}
}

func TestNewResolverUsesWorkerAliasesAndRestrictions(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	if err := os.Mkdir(allowed, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(allowed, "a.properties"), "k=v\n")
	writeFile(t, filepath.Join(dir, "b.properties"), "k=outside\n")
	t.Setenv("KCONNECT_OK_VAR", "yes")
	t.Setenv("OTHER_VAR", "no")

	r, err := NewResolver(map[string]string{
		"config.providers":                              "secrets, vars",
		"config.providers.secrets.class":                FileClass,
		"config.providers.secrets.param.allowed.paths":  allowed,
		"config.providers.vars.class":                   EnvClass,
		"config.providers.vars.param.allowlist.pattern": "KCONNECT_.*",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Resolve(map[string]string{
		"a": "${secrets:" + filepath.Join(allowed, "a.properties") + ":k}",
		"b": "${vars:KCONNECT_OK_VAR}",
	})
	if err != nil || got["a"] != "v" || got["b"] != "yes" {
		t.Errorf("Resolve = %v, %v", got, err)
	}
	for value, want := range map[string]string{
		"${secrets:" + filepath.Join(dir, "b.properties") + ":k}":           "not in allowed.paths",
		"${secrets:" + filepath.Join(allowed, "..", "b.properties") + ":k}": "not in allowed.paths",
		"${vars:OTHER_VAR}": "not allowed by allowlist.pattern",
		"${file:" + filepath.Join(allowed, "a.properties") + ":k}": `unknown config provider "file": config.providers lists secrets, vars`,
	} {
		if _, err := r.Resolve(map[string]string{"x": value}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", value, err, want)
		}
	}
}

func TestNewResolverRejectsBadProviderConfig(t *testing.T) {
	const class, paths, pattern = "config.providers.x.class", "config.providers.x.param.allowed.paths", "config.providers.x.param.allowlist.pattern"
	cases := []struct {
		worker  map[string]string
		key     string
		message string
	}{
		{map[string]string{"config.providers": "x"}, class, `missing; config.providers lists "x"`},
		{map[string]string{"config.providers": "x", class: "com.example.VaultConfigProvider"}, class, `unsupported provider class "com.example.VaultConfigProvider"`},
		{map[string]string{"config.providers": "x", class: FileClass, paths: "relative/dir"}, paths, `"relative/dir" is not an absolute path`},
		// Upstream's AllowedPaths rejects a path that does not exist.
		{map[string]string{"config.providers": "x", class: DirectoryClass, paths: "/nonexistent-kconnect-dir"}, paths, "no such file or directory"},
		{map[string]string{"config.providers": "x", class: EnvClass, pattern: "("}, pattern, "missing closing )"},
	}
	for _, c := range cases {
		_, err := NewResolver(c.worker)
		var fe *connect.FieldError
		if !errors.As(err, &fe) || fe.Name != c.key || !strings.Contains(fe.Msg, c.message) {
			t.Errorf("%v: err = %#v, want a FieldError for %s saying %q", c.worker, err, c.key, c.message)
		}
	}
}

func TestRedactHidesSecretLookingKeys(t *testing.T) {
	in := map[string]string{
		"connection.password":                  "p",
		"database.password":                    "p",
		"ssl.keystore.key":                     "k",
		"aws.secret.access.key":                "k",
		"producer.override.sasl.jaas.config":   "j",
		"value.converter.basic.auth.user.info": "u:p",
		"client.secret":                        "s",
		"oauth.token":                          "t",
		"connection.user":                      "alice",
		"key.converter":                        "org.apache.kafka.connect.json.JsonConverter",
		"topics":                               "t1",
		"message.key.columns":                  "a.b:id",
		"ssl.key.password":                     "${env:KEY_PASS}",
		"transforms.mask.fields":               "x",
		"pk.mode":                              "record_key",
	}
	got := Redact(in)
	hidden := []string{"connection.password", "database.password", "ssl.keystore.key", "aws.secret.access.key",
		"producer.override.sasl.jaas.config", "value.converter.basic.auth.user.info", "client.secret", "oauth.token"}
	for _, k := range hidden {
		if got[k] != Hidden {
			t.Errorf("%s = %q, want hidden", k, got[k])
		}
	}
	for _, k := range []string{"connection.user", "key.converter", "topics", "message.key.columns", "transforms.mask.fields", "pk.mode", "ssl.key.password"} {
		if got[k] != in[k] {
			t.Errorf("%s = %q, want it unchanged", k, got[k])
		}
	}
	if in["connection.password"] != "p" {
		t.Error("Redact modified its input")
	}
}

func TestUnresolvePutsReferencesBackIntoTaskConfigs(t *testing.T) {
	raw := map[string]string{
		"connection.password": "${file:/s.properties:pw}",
		"connection.url":      "jdbc:postgresql://${env:DB_HOST}/app",
		"topic.format":        "${topic}",
		"plain":               "p",
	}
	tasks := []map[string]string{
		{"connection.password": "s3cret", "connection.url": "jdbc:postgresql://db/app", "topic.format": "${topic}", "plain": "p", "task.id": "0"},
		{"plain": "p", "task.id": "1"},
	}
	got := Unresolve(raw, tasks)
	want := []map[string]string{
		{"connection.password": "${file:/s.properties:pw}", "connection.url": "jdbc:postgresql://${env:DB_HOST}/app", "topic.format": "${topic}", "plain": "p", "task.id": "0"},
		{"plain": "p", "task.id": "1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Unresolve = %v\nwant %v", got, want)
	}
	if tasks[0]["connection.password"] != "s3cret" {
		t.Error("Unresolve modified its input")
	}
}
