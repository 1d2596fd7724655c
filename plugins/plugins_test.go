package plugins

import (
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// Every built-in connector names the Java class of its tasks, which task configs carry as
// task.class; a Kafka Connect worker cannot start a task without it.
func TestConnectorsNameTheirTaskClass(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range reg.Plugins() {
		if p.Type != connect.PluginSource && p.Type != connect.PluginSink {
			continue
		}
		n++
		for _, name := range append([]string{p.Class}, p.Aliases...) {
			tc := p.TaskClassFor(name)
			if tc == "" || !strings.Contains(tc, ".") || strings.HasSuffix(tc, "Connector") {
				t.Errorf("%s (as %s) names task class %q", p.Class, name, tc)
			}
		}
	}
	if n == 0 {
		t.Fatal("no connector plugin registered")
	}
}
