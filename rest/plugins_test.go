package rest

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/kconnect/kconnect/internal/logging"
	"github.com/kconnect/kconnect/runtime/herder"
)

func TestListConnectorPlugins(t *testing.T) {
	s, _ := newTestServer(t, nil)
	connectors := `[
		{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"1.0.0"},
		{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"1.0.0"}]`
	expect(t, call(t, s.Handler(), "GET", "/connector-plugins", ""), 200, connectors)
	expect(t, call(t, s.Handler(), "GET", "/connector-plugins?connectorsOnly=true", ""), 200, connectors)
	// Upstream order: sinks, sources, transformations, predicates, converters, header converters;
	// a plugin without a version has no version field.
	expect(t, call(t, s.Handler(), "GET", "/connector-plugins?connectorsOnly=false", ""), 200, `[
		{"class":"org.apache.kafka.connect.file.FileStreamSinkConnector","type":"sink","version":"1.0.0"},
		{"class":"org.apache.kafka.connect.file.FileStreamSourceConnector","type":"source","version":"1.0.0"},
		{"class":"org.apache.kafka.connect.transforms.InsertField$Value","type":"transformation"},
		{"class":"org.apache.kafka.connect.transforms.predicates.TopicNameMatches","type":"predicate"},
		{"class":"org.apache.kafka.connect.json.JsonConverter","type":"converter","version":"1.0.0"},
		{"class":"org.apache.kafka.connect.storage.SimpleHeaderConverter","type":"header_converter","version":"1.0.0"}]`)
}

const fileConfigDef = `[
	{"name":"file","type":"STRING","required":false,"default_value":null,"importance":"HIGH","documentation":"Source filename.","group":"File","width":"NONE","display_name":"","dependents":[],"order":0},
	{"name":"topic","type":"STRING","required":true,"default_value":null,"importance":"HIGH","documentation":"The topic to publish data to","group":"File","width":"NONE","display_name":"","dependents":[],"order":0},
	{"name":"batch.size","type":"INT","required":false,"default_value":"2000","importance":"LOW","documentation":"Records per poll","group":null,"width":"NONE","display_name":"","dependents":[],"order":0}]`

func TestPluginConfigByClassOrAlias(t *testing.T) {
	s, _ := newTestServer(t, nil)
	expect(t, call(t, s.Handler(), "GET", "/connector-plugins/FileStreamSource/config", ""), 200, fileConfigDef)
	expect(t, call(t, s.Handler(), "GET", "/connector-plugins/org.apache.kafka.connect.file.FileStreamSourceConnector/config", ""), 200, fileConfigDef)
	expect(t, call(t, s.Handler(), "GET", "/connector-plugins/Nope/config", ""), 404, errJSON(404, "Unknown plugin Nope."))
}

func TestValidateConfig(t *testing.T) {
	s, _ := newTestServer(t, nil)
	body := `{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","batch.size":"0","file":"/tmp/x","empty":null}`
	expect(t, call(t, s.Handler(), "PUT", "/connector-plugins/FileStreamSourceConnector/config/validate", body), 200, `{
		"name":"org.apache.kafka.connect.file.FileStreamSourceConnector","error_count":3,"groups":["File"],
		"configs":[
			{"definition":{"name":"file","type":"STRING","required":false,"default_value":null,"importance":"HIGH","documentation":"Source filename.","group":"File","width":"NONE","display_name":"","dependents":[],"order":0},
			 "value":{"name":"file","value":"/tmp/x","recommended_values":[],"errors":[],"visible":true}},
			{"definition":{"name":"topic","type":"STRING","required":true,"default_value":null,"importance":"HIGH","documentation":"The topic to publish data to","group":"File","width":"NONE","display_name":"","dependents":[],"order":0},
			 "value":{"name":"topic","value":null,"recommended_values":[],"errors":["Missing required configuration \"topic\" which has no default value."],"visible":true}},
			{"definition":{"name":"batch.size","type":"INT","required":false,"default_value":"2000","importance":"LOW","documentation":"Records per poll","group":null,"width":"NONE","display_name":"","dependents":[],"order":0},
			 "value":{"name":"batch.size","value":"0","recommended_values":[],"errors":["Invalid value 0 for configuration batch.size: Value must be at least 1"],"visible":true}},
			{"definition":null,
			 "value":{"name":"empty","value":null,"recommended_values":[],"errors":["Null value can not be supplied as the configuration value."],"visible":true}}]}`)
}

func TestValidateConfigChecksTheConnectorClass(t *testing.T) {
	s, _ := newTestServer(t, nil)
	// Upstream's rule: the class without "Connector" must end with the requested name without it.
	for _, path := range []string{"FileStreamSource", "FileStreamSourceConnector", "org.apache.kafka.connect.file.FileStreamSourceConnector"} {
		rec := call(t, s.Handler(), "PUT", "/connector-plugins/"+path+"/config/validate",
			`{"connector.class":"org.apache.kafka.connect.file.FileStreamSourceConnector","topic":"t"}`)
		if rec.Code != 200 {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	expect(t, call(t, s.Handler(), "PUT", "/connector-plugins/FileStreamSink/config/validate", `{"connector.class":"FileStreamSource"}`), 400,
		errJSON(400, "Included connector type FileStreamSource does not match request type FileStreamSink"))
	expect(t, call(t, s.Handler(), "PUT", "/connector-plugins/FileStreamSource/config/validate", `{"topic":"t","db.password":"pw"}`), 400,
		errJSON(400, "Connector config {db.password=[hidden], topic=t} contains no connector type"))
	rec := call(t, s.Handler(), "PUT", "/connector-plugins/Bogus/config/validate", `{"connector.class":"Bogus"}`)
	if rec.Code != 400 {
		t.Errorf("unknown class: %d %s", rec.Code, rec.Body.String())
	}
}

func newLoggingServer(t *testing.T, mutate func(*Config)) (*Server, *logging.Loggers) {
	t.Helper()
	loggers := logging.New(&bytes.Buffer{}, "text", slog.LevelInfo)
	loggers.Logger("kconnect.runtime.worker")
	loggers.Logger("kconnect.runtime.worker.source")
	s, _ := newTestServer(t, func(c *Config) {
		c.Loggers = loggers
		if mutate != nil {
			mutate(c)
		}
	})
	return s, loggers
}

func TestLoggers(t *testing.T) {
	s, loggers := newLoggingServer(t, nil)
	expect(t, call(t, s.Handler(), "GET", "/admin/loggers", ""), 200, `{"root":{"level":"INFO","last_modified":null}}`)
	expect(t, call(t, s.Handler(), "GET", "/admin/loggers/kconnect.runtime.worker", ""), 200, `{"level":"INFO","last_modified":null}`)
	expect(t, call(t, s.Handler(), "GET", "/admin/loggers/nobody", ""), 404, errJSON(404, "Logger nobody not found."))

	expect(t, call(t, s.Handler(), "PUT", "/admin/loggers/kconnect.runtime", `{"level":"debug"}`), 200,
		`["kconnect.runtime","kconnect.runtime.worker","kconnect.runtime.worker.source"]`)
	rec := call(t, s.Handler(), "GET", "/admin/loggers/kconnect.runtime.worker.source", "")
	if lvl, _ := loggers.Level("kconnect.runtime.worker.source"); lvl.Level != "DEBUG" || lvl.LastModified == nil {
		t.Errorf("level after PUT = %+v (response %s)", lvl, rec.Body.String())
	}
	expect(t, call(t, s.Handler(), "PUT", "/admin/loggers/root?scope=cluster", `{"level":"WARN"}`), 204, "")
	if lvl, _ := loggers.Level("root"); lvl.Level != "WARN" {
		t.Errorf("root = %+v", lvl)
	}
	// Upstream's LoggingResource falls back to the worker scope for an unknown scope (after a
	// warning): 200 with the affected loggers, not 400.
	expect(t, call(t, s.Handler(), "PUT", "/admin/loggers/kconnect.runtime.worker?scope=junk", `{"level":"ERROR"}`), 200,
		`["kconnect.runtime.worker","kconnect.runtime.worker.source"]`)
	if lvl, _ := loggers.Level("kconnect.runtime.worker"); lvl.Level != "ERROR" {
		t.Errorf("kconnect.runtime.worker after scope=junk = %+v, want ERROR", lvl)
	}
	expect(t, call(t, s.Handler(), "PUT", "/admin/loggers/x", `{"lvl":"WARN"}`), 400,
		errJSON(400, "Desired 'level' parameter was not specified in request."))
	expect(t, call(t, s.Handler(), "PUT", "/admin/loggers/x", `{"level":"LOUD"}`), 404, errJSON(404, "invalid log level 'LOUD'."))
}

func TestLoggersDisabled(t *testing.T) {
	// No Loggers, or admin.listeners empty: the admin endpoints do not exist.
	s, _ := newTestServer(t, nil)
	expect(t, call(t, s.Handler(), "GET", "/admin/loggers", ""), 404, errJSON(404, "HTTP 404 Not Found"))
	s, _ = newLoggingServer(t, func(c *Config) { c.AdminListeners = []string{} })
	expect(t, call(t, s.Handler(), "GET", "/admin/loggers", ""), 404, errJSON(404, "HTTP 404 Not Found"))
}

func TestSeparateAdminListener(t *testing.T) {
	s, _ := newLoggingServer(t, func(c *Config) { c.AdminListeners = []string{"http://127.0.0.1:0"} })
	expect(t, call(t, s.Handler(), "GET", "/admin/loggers", ""), 404, errJSON(404, "HTTP 404 Not Found"))
	expect(t, call(t, s.AdminHandler(), "GET", "/admin/loggers", ""), 200, `{"root":{"level":"INFO","last_modified":null}}`)
	expect(t, call(t, s.AdminHandler(), "GET", "/connectors", ""), 404, errJSON(404, "HTTP 404 Not Found"))
}

// Upstream's ConfigInfo writes null for a definition no ConfigDef declares and for a declared key
// that was not validated; the herder passes either as nil.
func TestValidateJSONKeepsNullMembers(t *testing.T) {
	infos := herder.ConfigInfos{Name: "c", Configs: []herder.ConfigInfo{
		{Definition: &herder.ConfigKeyInfo{Name: "declared", Type: "STRING", Importance: "LOW", Width: "NONE", OrderInGroup: -1}},
		{Value: &herder.ConfigValueInfo{Name: "override", Visible: true}},
	}}
	got, err := json.Marshal(validateJSON(infos, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"c","error_count":0,"groups":[],"configs":[` +
		`{"definition":{"name":"declared","type":"STRING","required":false,"default_value":null,"importance":"LOW","documentation":"","group":null,"order":-1,"width":"NONE","display_name":"","dependents":[]},"value":null},` +
		`{"definition":null,"value":{"name":"override","value":null,"recommended_values":[],"errors":[],"visible":true}}]}`
	if string(got) != want {
		t.Errorf("validate JSON\n got %s\nwant %s", got, want)
	}
}
