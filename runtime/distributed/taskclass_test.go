package distributed

import (
	"maps"
	"reflect"
	"testing"
)

// Task configs as Kafka Connect 4.3.1 wrote them for a FileStreamSource (GET
// /connectors/{name}/tasks on a Java worker) compare equal to the ones kconnect wrote before it
// added task.class once task.class is left out, and the committed configs themselves are not
// changed.
func TestWithoutTaskClass(t *testing.T) {
	java := []map[string]string{{
		"connector.class": "FileStreamSource", "file": "/tmp/in.txt", "name": "lines", "tasks.max": "1",
		"topic": "lines", "task.class": "org.apache.kafka.connect.file.FileStreamSourceTask",
	}}
	kconnect := []map[string]string{{
		"connector.class": "FileStreamSource", "file": "/tmp/in.txt", "name": "lines", "tasks.max": "1", "topic": "lines",
	}}
	before := maps.Clone(java[0])
	if got := withoutTaskClass(java); !reflect.DeepEqual(got, kconnect) {
		t.Errorf("withoutTaskClass(%v) = %v, want %v", java, got, kconnect)
	}
	if !maps.Equal(java[0], before) {
		t.Errorf("withoutTaskClass changed its argument: %v", java[0])
	}
	if got := withoutTaskClass(kconnect); !reflect.DeepEqual(got, kconnect) {
		t.Errorf("withoutTaskClass(%v) = %v: configs without task.class must stay as they are", kconnect, got)
	}
	changed := []map[string]string{maps.Clone(kconnect[0])}
	changed[0]["file"] = "/tmp/other.txt"
	if reflect.DeepEqual(withoutTaskClass(java), changed) {
		t.Error("a real change of the task config compared equal")
	}
}
