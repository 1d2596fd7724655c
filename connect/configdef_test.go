package connect

import (
	"errors"
	"strings"
	"testing"
)

func testDef() *ConfigDef {
	return NewConfigDef().
		Define(ConfigKey{Name: "file", Type: ConfigString, Required: true}).
		Define(ConfigKey{Name: "batch.size", Type: ConfigInt, Default: "2000", Validator: AtLeast(1)}).
		Define(ConfigKey{Name: "mode", Type: ConfigString, Default: "bulk", Validator: OneOf("bulk", "incrementing")}).
		Define(ConfigKey{Name: "tables", Type: ConfigList, Default: ""}).
		Define(ConfigKey{Name: "enabled", Type: ConfigBoolean, Default: "false"}).
		Define(ConfigKey{Name: "password", Type: ConfigPassword}).
		Define(ConfigKey{Name: "timeout.ms", Type: ConfigLong, Default: "1500"})
}

func TestConfigDefParsesTypedValues(t *testing.T) {
	c, err := testDef().Parse(map[string]string{
		"file": " /tmp/x ", "mode": "INCREMENTING", "tables": "a, b,c", "enabled": "TRUE", "password": "s3cret",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.String("file") != "/tmp/x" || c.Int("batch.size") != 2000 || !c.Bool("enabled") ||
		strings.Join(c.List("tables"), "|") != "a|b|c" || c.Password("password").Value() != "s3cret" ||
		c.Millis("timeout.ms").Milliseconds() != 1500 {
		t.Fatalf("parsed values wrong: %+v", c.values)
	}
	if c.Password("password").String() != "[hidden]" {
		t.Fatal("a password must print hidden")
	}
	if !c.IsSet("file") || c.IsSet("batch.size") {
		t.Fatal("IsSet must tell explicit from defaulted keys")
	}
}

// Messages follow upstream's ConfigDef wording, which users search for.
func TestConfigDefReportsEveryErrorWithTheKey(t *testing.T) {
	_, err := testDef().Parse(map[string]string{"batch.size": "abc", "mode": "weird", "enabled": "yes"})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a ConfigError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`Missing required configuration "file" which has no default value.`,
		"Invalid value abc for configuration batch.size: Not a number of type INT",
		"Invalid value weird for configuration mode: String must be one of: bulk, incrementing",
		"Invalid value yes for configuration enabled: Expected value to be either true or false",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if len(ce.Errs) != 4 {
		t.Errorf("want 4 errors at once, got %d", len(ce.Errs))
	}
	_, err = testDef().Parse(map[string]string{"file": "x", "batch.size": "0"})
	if err == nil || !strings.Contains(err.Error(), "Value must be at least 1") {
		t.Fatalf("range validator: %v", err)
	}
}

func TestConfigDefValidateHidesNothingButReportsPerKey(t *testing.T) {
	values := testDef().Validate(map[string]string{"batch.size": "-5"})
	byName := map[string]ConfigValue{}
	for _, v := range values {
		byName[v.Name] = v
	}
	if len(byName["file"].Errors) != 1 || len(byName["batch.size"].Errors) != 1 || len(byName["mode"].Errors) != 0 {
		t.Fatalf("per-key errors wrong: %+v", values)
	}
	if got := byName["mode"].RecommendedValues; strings.Join(got, ",") != "bulk,incrementing" {
		t.Fatalf("recommended values = %v", got)
	}
}

func TestRegistryLooksUpByClassAliasAndType(t *testing.T) {
	reg, err := NewRegistry(
		Plugin{Class: "org.example.FileStreamSourceConnector", Aliases: []string{"FileStreamSource"}, Type: PluginSource, New: func() any { return nil }},
		Plugin{Class: "org.example.JsonConverter", Aliases: []string{"JsonConverter"}, Type: PluginConverter, New: func() any { return "conv" }},
		Plugin{Class: "org.example.JsonConverter", Aliases: []string{"JsonConverter"}, Type: PluginHeaderConverter, New: func() any { return "hdr" }},
	)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := reg.Lookup("FileStreamSource", PluginSource, PluginSink); err != nil || p.Class != "org.example.FileStreamSourceConnector" {
		t.Fatalf("alias lookup: %v %v", p, err)
	}
	if p, _ := reg.Lookup("JsonConverter", PluginHeaderConverter); p.New() != "hdr" {
		t.Fatal("lookup must pick the requested plugin type of a dual-role class")
	}
	_, err = reg.Lookup("FileStreamSorce", PluginSource)
	if err == nil || !strings.Contains(err.Error(), "FileStreamSource") {
		t.Fatalf("a misspelt name must suggest the close match, got %v", err)
	}
	if _, err := reg.Lookup("FileStreamSource", PluginConverter); err == nil {
		t.Fatal("a source connector must not be found as a converter")
	}
	if err := reg.Register(Plugin{Class: "x", Aliases: []string{"JsonConverter"}, Type: PluginConverter}); err == nil {
		t.Fatal("a second converter answering to the same name must be refused")
	}
}
