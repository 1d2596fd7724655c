package cluster

import (
	"cmp"
	"slices"
	"sort"

	"github.com/kconnect/kconnect/runtime/herder"
)

// work is a set of connectors and a set of tasks, each in the order they were added: the
// order decides which of a worker's tasks a load-balancing revocation takes, as in upstream.
type work struct {
	connectors []string
	tasks      []herder.TaskID
}

func (w work) empty() bool { return len(w.connectors) == 0 && len(w.tasks) == 0 }

// add appends what w lacks of o.
func (w *work) add(o work) {
	w.connectors = appendKept(w.connectors, o.connectors, nil)
	w.tasks = appendKept(w.tasks, o.tasks, nil)
}

// remove drops everything in o from w.
func (w *work) remove(o work) {
	w.connectors = without(w.connectors, o.connectors)
	w.tasks = without(w.tasks, o.tasks)
}

// intersect returns what w and o share, in w's order.
func (w work) intersect(o work) work {
	return work{connectors: within(w.connectors, o.connectors), tasks: within(w.tasks, o.tasks)}
}

// overlaps reports whether w and o share anything.
func (w work) overlaps(o work) bool { return !w.intersect(o).empty() }

// minus returns w without anything in the others, sorted (connectors by name, tasks by
// connector then number), as upstream's set differences are.
func (w work) minus(others ...work) work {
	out := work{connectors: slices.Clone(w.connectors), tasks: slices.Clone(w.tasks)}
	for _, o := range others {
		out.remove(o)
	}
	slices.Sort(out.connectors)
	out.connectors = slices.Compact(out.connectors)
	sortTasks(out.tasks)
	out.tasks = slices.Compact(out.tasks)
	return out
}

func (w work) clone() work {
	return work{connectors: slices.Clone(w.connectors), tasks: slices.Clone(w.tasks)}
}

// load is one worker's work during an assignment.
type load struct {
	worker string
	work
}

// union is everything the loads hold, each once.
func union(loads []*load) work {
	var all work
	for _, l := range loads {
		all.add(l.work)
	}
	return all
}

// sortTasks orders tasks as upstream's ConnectorTaskId does: by connector, then number.
func sortTasks(tasks []herder.TaskID) {
	sort.SliceStable(tasks, func(i, j int) bool {
		return cmp.Or(cmp.Compare(tasks[i].Connector, tasks[j].Connector), cmp.Compare(tasks[i].Task, tasks[j].Task)) < 0
	})
}

// without returns the elements of xs not in drop, in order.
func without[T comparable](xs, drop []T) []T {
	if len(drop) == 0 {
		return xs
	}
	skip := setOf(drop)
	return slices.DeleteFunc(slices.Clone(xs), func(v T) bool { return skip[v] })
}

// within returns the elements of xs also in keep, in order.
func within[T comparable](xs, keep []T) []T {
	in := setOf(keep)
	var out []T
	for _, v := range xs {
		if in[v] {
			out = append(out, v)
		}
	}
	return out
}

func setOf[T comparable](xs []T) map[T]bool {
	m := make(map[T]bool, len(xs))
	for _, v := range xs {
		m[v] = true
	}
	return m
}
