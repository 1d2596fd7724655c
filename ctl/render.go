package ctl

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"

	"github.com/kconnect/kconnect/connect"
	"github.com/kconnect/kconnect/runtime/herder"
)

// Format is how commands print what they read: an aligned table for people, or the REST API's
// own JSON shapes as JSON or YAML for scripts.
type Format string

// Output formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	YAML  Format = "yaml"
)

// ParseFormat checks an --output value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Table, JSON, YAML:
		return f, nil
	}
	return "", fmt.Errorf("--output %q: want table, json or yaml", s)
}

// Encode writes v as JSON or YAML (YAML keeps the JSON field names of the REST API).
func Encode(w io.Writer, f Format, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if f != YAML {
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(generic); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	return enc.Close()
}

// table writes a header (unless nil) and rows aligned in columns, two spaces apart, with each line
// prefixed by indent and no trailing spaces where a last cell is empty.
func table(w io.Writer, indent string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', 0)
	if header != nil {
		rows = append([][]string{header}, rows...)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s%s\n", indent, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// PrintConnectors prints connectors in format f; the table has one line per connector with its
// state and how many of its tasks run.
func PrintConnectors(w io.Writer, f Format, cs []Connector) error {
	if f != Table {
		return Encode(w, f, cs)
	}
	// The PROGRESS column is there only while some connector reports progress, so the table of
	// an upstream worker (which never does) keeps upstream's columns.
	withProgress := slices.ContainsFunc(cs, func(c Connector) bool { return c.Status.Connector.Progress != nil })
	header := []string{"NAME", "TYPE", "STATE", "TASKS", "CLASS"}
	if withProgress {
		header = append(header, "PROGRESS")
	}
	rows := make([][]string, 0, len(cs))
	for _, c := range cs {
		row := []string{c.Info.Name, string(c.Info.Type), string(c.Status.Connector.State),
			runningTasks(c.Status.Tasks), c.Info.Config["connector.class"]}
		if withProgress {
			row = append(row, progressCell(c.Status.Connector.Progress))
		}
		rows = append(rows, row)
	}
	return table(w, "", header, rows)
}

// progressCell is progressText, or nothing for no progress.
func progressCell(p *herder.Progress) string {
	if p == nil {
		return ""
	}
	return progressText(p)
}

// runningTasks is "running/total".
func runningTasks(ts []herder.TaskState) string {
	n := 0
	for _, t := range ts {
		if t.State == herder.Running {
			n++
		}
	}
	return fmt.Sprintf("%d/%d", n, len(ts))
}

// PrintPlugins prints plugins in format f.
func PrintPlugins(w io.Writer, f Format, ps []herder.PluginInfo) error {
	if f != Table {
		return Encode(w, f, ps)
	}
	rows := make([][]string, 0, len(ps))
	for _, p := range ps {
		rows = append(rows, []string{p.Class, p.Type, p.Version})
	}
	return table(w, "", []string{"CLASS", "TYPE", "VERSION"}, rows)
}

// PrintOffsets prints a connector's offsets in format f; the table shows each partition and
// offset as compact JSON.
func PrintOffsets(w io.Writer, f Format, offsets []herder.Offset) error {
	if f != Table {
		return Encode(w, f, map[string]any{"offsets": offsets})
	}
	rows := make([][]string, 0, len(offsets))
	for _, o := range offsets {
		p, err := json.Marshal(o.Partition)
		if err != nil {
			return fmt.Errorf("encode partition: %w", err)
		}
		v, err := json.Marshal(o.Offset)
		if err != nil {
			return fmt.Errorf("encode offset: %w", err)
		}
		rows = append(rows, []string{string(p), string(v)})
	}
	return table(w, "", []string{"PARTITION", "OFFSET"}, rows)
}

// PrintDescription prints one connector in format f: the table form lists its state, config,
// tasks and the stack traces of whatever failed.
func PrintDescription(w io.Writer, f Format, c Connector) error {
	if f != Table {
		return Encode(w, f, c)
	}
	st := c.Status.Connector
	head := [][]string{
		{"Name:", c.Info.Name},
		{"Type:", string(c.Info.Type)},
		{"Class:", c.Info.Config["connector.class"]},
		{"State:", string(st.State)},
		{"Worker ID:", st.WorkerID},
	}
	if st.Progress != nil {
		head = append(head, []string{"Progress:", progressText(st.Progress)})
	}
	if err := table(w, "", nil, head); err != nil {
		return err
	}
	if st.Trace != "" {
		fmt.Fprintf(w, "Trace:\n%s\n", indentLines(st.Trace, "  "))
	}
	fmt.Fprintln(w, "\nConfig:")
	rows := make([][]string, 0, len(c.Info.Config))
	for _, k := range connect.SortedKeys(c.Info.Config) {
		rows = append(rows, []string{k, c.Info.Config[k]})
	}
	if err := table(w, "  ", []string{"KEY", "VALUE"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTasks:")
	rows = rows[:0]
	withProgress := slices.ContainsFunc(c.Status.Tasks, func(t herder.TaskState) bool { return t.Progress != nil })
	header := []string{"ID", "STATE", "WORKER ID"}
	if withProgress {
		header = append(header, "PROGRESS")
	}
	for _, t := range c.Status.Tasks {
		row := []string{fmt.Sprint(t.ID), string(t.State), t.WorkerID}
		if withProgress {
			row = append(row, progressCell(t.Progress))
		}
		rows = append(rows, row)
	}
	if err := table(w, "  ", header, rows); err != nil {
		return err
	}
	for _, t := range c.Status.Tasks {
		if t.Trace != "" {
			fmt.Fprintf(w, "\nTask %d trace:\n%s\n", t.ID, indentLines(t.Trace, "  "))
		}
	}
	return nil
}

func indentLines(s, indent string) string {
	return indent + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

// PrintContexts prints the contexts of cfg in format f, marking the current one and leaving the
// passwords out.
func PrintContexts(w io.Writer, f Format, cfg *Config) error {
	type shown struct {
		Name     string `json:"name"`
		Current  bool   `json:"current"`
		Cluster  string `json:"cluster"`
		Username string `json:"username,omitempty"`
	}
	list := make([]shown, 0, len(cfg.Contexts))
	rows := make([][]string, 0, len(cfg.Contexts))
	for _, name := range connect.SortedKeys(cfg.Contexts) {
		c := cfg.Contexts[name]
		list = append(list, shown{Name: name, Current: name == cfg.CurrentContext, Cluster: c.Cluster, Username: c.Username})
		mark := ""
		if name == cfg.CurrentContext {
			mark = "*"
		}
		rows = append(rows, []string{mark, name, c.Cluster, c.Username})
	}
	if f != Table {
		return Encode(w, f, list)
	}
	return table(w, "", []string{"CURRENT", "NAME", "CLUSTER", "USERNAME"}, rows)
}
