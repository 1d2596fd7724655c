package cluster

import (
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"

	"github.com/kconnect/kconnect/runtime/herder"
)

// AssignmentError is the error code carried by an assignment.
type AssignmentError int16

// Assignment error codes.
const (
	// NoError marks a usable assignment.
	NoError AssignmentError = 0
	// ConfigMismatch means the leader had not read the config topic as far as some member had:
	// every member should read the config topic to the end and join again.
	ConfigMismatch AssignmentError = 1
)

// Assignment is what the leader hands one worker at the end of a rebalance (the SyncGroup
// member assignment). Under the eager protocol it is the worker's whole share of the work; under
// the cooperative protocols it is a change: what to start, what to stop, and when to rejoin.
type Assignment struct {
	// Version is the protocol version in the header: 0 writes the eager layout, 1 and above the
	// cooperative one (with revocations and delay).
	Version int16
	// Error is NoError unless the leader could not assign.
	Error AssignmentError
	// Leader is the group member ID of the leader, LeaderURL its REST URL.
	Leader    string
	LeaderURL string
	// ConfigOffset is the config topic offset the assignment was computed at; a worker that has
	// read less of the config topic must catch up before acting on it.
	ConfigOffset int64
	// Connectors and Tasks are the connectors and tasks to run.
	Connectors []string
	Tasks      []herder.TaskID
	// RevokedConnectors and RevokedTasks are to be stopped before anyone else may start them
	// (cooperative protocols only).
	RevokedConnectors []string
	RevokedTasks      []herder.TaskID
	// Delay asks the worker to rejoin after it, when the leader holds back a departed worker's
	// load or spaces out successive revocations (cooperative protocols only; millisecond
	// precision on the wire).
	Delay time.Duration
}

// Failed reports whether the leader could not make the assignment.
func (a Assignment) Failed() bool { return a.Error != NoError }

// Encode returns the assignment as upstream's ConnectProtocol (Version 0) or
// IncrementalCooperativeConnectProtocol (Version 1 and 2) serialize it: the bytes of a SyncGroup
// member assignment. Connectors are grouped with their tasks in the order given; decoders do not
// depend on that order.
func (a Assignment) Encode() []byte { return appendAssignment(nil, a, a.Version) }

// appendAssignment writes a with the header version (which also picks the layout), whatever
// a.Version says: a worker's allocation is re-encoded with the version of the protocol it joins
// with.
func appendAssignment(dst []byte, a Assignment, version int16) []byte {
	dst = kbin.AppendInt16(dst, version)
	dst = kbin.AppendInt16(dst, int16(a.Error))
	dst = kbin.AppendString(dst, a.Leader)
	dst = kbin.AppendString(dst, a.LeaderURL)
	dst = kbin.AppendInt64(dst, a.ConfigOffset)
	dst = appendEntries(dst, a.Connectors, a.Tasks)
	if version < Compatible.Version() {
		return dst
	}
	dst = appendEntries(dst, a.RevokedConnectors, a.RevokedTasks)
	return kbin.AppendInt32(dst, int32(a.Delay.Milliseconds()))
}

// entry is one connector's part of an assignment: the connector itself (task -1) and/or tasks.
type entry struct {
	connector string
	tasks     []int32
}

// appendEntries writes connectors and tasks as the array of per-connector entries upstream
// uses: every connector once with task -1, then each task in the entry of its connector.
func appendEntries(dst []byte, connectors []string, tasks []herder.TaskID) []byte {
	var entries []entry
	index := map[string]int{}
	add := func(connector string, task int32) {
		i, ok := index[connector]
		if !ok {
			i = len(entries)
			index[connector] = i
			entries = append(entries, entry{connector: connector})
		}
		entries[i].tasks = append(entries[i].tasks, task)
	}
	for _, c := range connectors {
		if _, dup := index[c]; !dup {
			add(c, connectorTask)
		}
	}
	for _, t := range tasks {
		add(t.Connector, int32(t.Task))
	}
	dst = kbin.AppendArrayLen(dst, len(entries))
	for _, e := range entries {
		dst = kbin.AppendString(dst, e.connector)
		dst = kbin.AppendArrayLen(dst, len(e.tasks))
		for _, t := range e.tasks {
			dst = kbin.AppendInt32(dst, t)
		}
	}
	return dst
}

// DecodeAssignment reads a SyncGroup member assignment of any Connect protocol version, as
// upstream's IncrementalCooperativeConnectProtocol does: fields after the config offset that an
// older version lacks take their defaults, and bytes after the last known field are ignored.
func DecodeAssignment(b []byte) (Assignment, error) {
	a, err := decodeAssignment(newDecoder(b))
	if err != nil {
		return Assignment{}, fmt.Errorf("decode Connect assignment: %w", err)
	}
	return a, nil
}

func decodeAssignment(d *decoder) (Assignment, error) {
	a := Assignment{Version: d.int16("version")}
	if d.err == nil && a.Version < 0 {
		return a, fmt.Errorf("unsupported version %d", a.Version)
	}
	a.Error = AssignmentError(d.int16("error"))
	a.Leader = d.string("leader")
	a.LeaderURL = d.string("leader-url")
	a.ConfigOffset = d.int64("config-offset")
	if d.more() {
		a.Connectors, a.Tasks = d.entries("assignment")
	}
	if d.more() {
		a.RevokedConnectors, a.RevokedTasks = d.entries("revoked")
	}
	if d.more() {
		a.Delay = time.Duration(d.int32("delay")) * time.Millisecond
	}
	return a, d.err
}

// entries reads an array of per-connector entries (null reads as empty).
func (d *decoder) entries(field string) (connectors []string, tasks []herder.TaskID) {
	n := d.arrayLen(field, true)
	for range n {
		connector := d.string(field + ".connector")
		m := d.arrayLen(field+".tasks", false)
		for range m {
			task := d.int32(field + ".tasks")
			if d.err != nil {
				return nil, nil
			}
			if task == connectorTask {
				connectors = append(connectors, connector)
			} else {
				tasks = append(tasks, herder.TaskID{Connector: connector, Task: int(task)})
			}
		}
		if d.err != nil {
			return nil, nil
		}
	}
	return connectors, tasks
}

// Apply returns what a worker holding prev (nil if nothing yet) runs after receiving a in a
// rebalance that ended with protocol p. Under the eager protocol a is complete. Under the
// cooperative ones a lists only changes, so the worker keeps what it held minus a's
// revocations, after a's own connectors and tasks, as upstream's WorkerCoordinator does. The
// result, without revocations, is also the allocation the worker reports in its metadata when
// it next joins.
func (a Assignment) Apply(prev *Assignment, p Protocol) Assignment {
	out := a
	out.Connectors = slices.Clone(a.Connectors)
	out.Tasks = slices.Clone(a.Tasks)
	// Once carried out, revocations are history: upstream's herder clears them too, so they
	// are not repeated in the next metadata.
	out.RevokedConnectors, out.RevokedTasks = nil, nil
	if p == Eager || prev == nil {
		return out
	}
	out.Connectors = appendKept(out.Connectors, prev.Connectors, a.RevokedConnectors)
	out.Tasks = appendKept(out.Tasks, prev.Tasks, a.RevokedTasks)
	return out
}

// appendKept appends to dst the elements of held that are neither revoked nor already in dst.
func appendKept[T comparable](dst, held, revoked []T) []T {
	skip := make(map[T]bool, len(dst)+len(revoked))
	for _, v := range dst {
		skip[v] = true
	}
	for _, v := range revoked {
		skip[v] = true
	}
	for _, v := range held {
		if !skip[v] {
			skip[v] = true
			dst = append(dst, v)
		}
	}
	return dst
}
