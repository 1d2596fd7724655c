package kafkalog

import (
	"strconv"
	"strings"

	"github.com/kconnect/kconnect/runtime/herder"
)

// TaskKey is the key of a task's record in an internal topic: prefix, connector, dash, task
// number (task-<connector>-<n>, status-task-<connector>-<n>).
func TaskKey(prefix string, id herder.TaskID) string {
	return prefix + id.Connector + "-" + strconv.Itoa(id.Task)
}

// ParseTaskKey splits a key made by TaskKey as upstream does: the task number follows the last
// dash, and the connector name (which may contain dashes) is what lies between prefix and it.
func ParseTaskKey(prefix, key string) (herder.TaskID, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	i := strings.LastIndexByte(rest, '-')
	if !ok || i < 0 {
		return herder.TaskID{}, false
	}
	n, err := strconv.Atoi(rest[i+1:])
	if err != nil || n < 0 {
		return herder.TaskID{}, false
	}
	return herder.TaskID{Connector: rest[:i], Task: n}, true
}
