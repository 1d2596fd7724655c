package kafkalog

import (
	"testing"

	"github.com/kconnect/kconnect/runtime/herder"
)

func TestTaskKeys(t *testing.T) {
	for key, want := range map[string]herder.TaskID{
		"task-c-0":                 {Connector: "c", Task: 0},
		"task-my-conn-1-12":        {Connector: "my-conn-1", Task: 12},
		"status-task-my-conn-2-11": {Connector: "my-conn-2", Task: 11},
	} {
		prefix := "task-"
		if key[0] == 's' {
			prefix = "status-task-"
		}
		if got, ok := ParseTaskKey(prefix, key); !ok || got != want {
			t.Errorf("ParseTaskKey(%q) = %v, %v", key, got, ok)
		}
		if got := TaskKey(prefix, want); got != key {
			t.Errorf("TaskKey(%v) = %q, want %q", want, got, key)
		}
	}
	for _, bad := range []string{"task-c", "task-c-x", "task-c-", "other-c-1"} {
		if _, ok := ParseTaskKey("task-", bad); ok {
			t.Errorf("ParseTaskKey(%q) accepted a malformed key", bad)
		}
	}
}
