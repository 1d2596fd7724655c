package logging

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseLevelAcceptsLog4jNamesIgnoringCase(t *testing.T) {
	cases := map[string]slog.Level{
		"ALL": LevelAll, "trace": LevelTrace, "Debug": slog.LevelDebug, "INFO": slog.LevelInfo,
		"warn": slog.LevelWarn, "ERROR": slog.LevelError, "fatal": LevelFatal, "OFF": LevelOff,
	}
	for in, want := range cases {
		got, err := ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
		if name := LevelName(got); !strings.EqualFold(name, in) {
			t.Errorf("LevelName(ParseLevel(%q)) = %q", in, name)
		}
	}
	for _, bad := range []string{"", "WARNING", "verbose"} {
		if _, err := ParseLevel(bad); err == nil {
			t.Errorf("ParseLevel(%q) succeeded", bad)
		}
	}
}

func TestLoggerFiltersByItsLevelAndTagsItsName(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "json", slog.LevelInfo)
	log := l.Logger("kconnect.rest")
	log.Debug("hidden")
	log.Info("shown", "connector", "c1")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %q", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["logger"] != "kconnect.rest" || rec["msg"] != "shown" || rec["level"] != "INFO" || rec["connector"] != "c1" {
		t.Errorf("record = %v", rec)
	}
}

func TestTraceAndFatalAreNamedInOutput(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", LevelTrace)
	log := l.Logger("a")
	log.Log(t.Context(), LevelTrace, "t")
	log.Log(t.Context(), LevelFatal, "f")
	out := buf.String()
	if !strings.Contains(out, "level=TRACE") || !strings.Contains(out, "level=FATAL") {
		t.Errorf("output %q lacks TRACE/FATAL level names", out)
	}
}

func TestSetLevelAppliesToNamespaceAndChildrenOnly(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", slog.LevelInfo)
	l.now = func() time.Time { return time.UnixMilli(1700000000000) }
	conn := l.Logger("kconnect.connectors.jdbc")
	connSub := l.Logger("kconnect.connectors.jdbc.dialect")
	sibling := l.Logger("kconnect.connectorsx")
	rest := l.Logger("kconnect.rest")

	got, err := l.SetLevel("kconnect.connectors", "debug")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kconnect.connectors", "kconnect.connectors.jdbc", "kconnect.connectors.jdbc.dialect"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("affected = %v, want %v", got, want)
	}
	conn.Debug("conn-debug")
	connSub.Debug("sub-debug")
	sibling.Debug("sibling-debug")
	rest.Debug("rest-debug")
	out := buf.String()
	for _, s := range []string{"conn-debug", "sub-debug"} {
		if !strings.Contains(out, s) {
			t.Errorf("%s not logged after SetLevel DEBUG", s)
		}
	}
	for _, s := range []string{"sibling-debug", "rest-debug"} {
		if strings.Contains(out, s) {
			t.Errorf("%s logged although outside the namespace", s)
		}
	}

	lvl, ok := l.Level("kconnect.connectors.jdbc")
	if !ok || lvl.Level != "DEBUG" || lvl.LastModified == nil || *lvl.LastModified != 1700000000000 {
		t.Errorf("Level = %+v, %v", lvl, ok)
	}
	lvl, ok = l.Level("kconnect.rest")
	if !ok || lvl.Level != "INFO" || lvl.LastModified != nil {
		t.Errorf("Level(kconnect.rest) = %+v, %v", lvl, ok)
	}
	if _, ok := l.Level("nobody.created.this"); ok {
		t.Error("Level of an unknown logger reported as existing")
	}
}

func TestMostSpecificLevelWinsForLaterLoggers(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", slog.LevelWarn)
	if _, err := l.SetLevel("a", "DEBUG"); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SetLevel("a.b", "ERROR"); err != nil {
		t.Fatal(err)
	}
	// Created after the levels were set: each takes its nearest configured ancestor.
	l.Logger("a.b.c").Warn("abc-warn")
	l.Logger("a.x").Debug("ax-debug")
	l.Logger("z").Info("z-info")
	out := buf.String()
	if strings.Contains(out, "abc-warn") {
		t.Error("a.b.c logged WARN although a.b is ERROR")
	}
	if !strings.Contains(out, "ax-debug") {
		t.Error("a.x did not inherit DEBUG from a")
	}
	if strings.Contains(out, "z-info") {
		t.Error("z logged INFO although root is WARN")
	}
}

func TestSetLevelSkipsLoggersAlreadyAtThatLevel(t *testing.T) {
	l := New(&bytes.Buffer{}, "text", slog.LevelInfo)
	l.Logger("a.b")
	got, err := l.SetLevel("a", "INFO")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"a", "a.b"}) {
		t.Errorf("affected = %v", got)
	}
	// Nothing changed level, so only root has a level of its own.
	if levels := l.Levels(); len(levels) != 1 || levels[RootName].Level != "INFO" {
		t.Errorf("Levels = %v", levels)
	}
	// "a" now exists, as log4j creates the namespace logger.
	if lvl, ok := l.Level("a"); !ok || lvl.Level != "INFO" {
		t.Errorf("Level(a) = %+v, %v", lvl, ok)
	}
}

func TestSetRootLevelReachesEveryLogger(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", slog.LevelInfo)
	if _, err := l.SetLevel("x", "ERROR"); err != nil {
		t.Fatal(err)
	}
	y := l.Logger("y")
	got, err := l.SetLevel("ROOT", "debug")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"root", "x", "y"}) {
		t.Errorf("affected = %v", got)
	}
	l.Logger("x").Debug("x-debug")
	y.Debug("y-debug")
	l.Logger("").Debug("root-debug")
	for _, s := range []string{"x-debug", "y-debug", "root-debug"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("%s missing after root set to DEBUG", s)
		}
	}
	levels := l.Levels()
	if levels["root"].Level != "DEBUG" || levels["x"].Level != "DEBUG" || levels["y"].Level != "DEBUG" {
		t.Errorf("Levels = %v", levels)
	}
}

func TestLevelOffSilencesEverything(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", slog.LevelInfo)
	log := l.Logger("quiet")
	if _, err := l.SetLevel("quiet", "OFF"); err != nil {
		t.Fatal(err)
	}
	log.Log(t.Context(), LevelFatal, "fatal")
	log.Log(t.Context(), LevelOff, "off")
	if buf.Len() != 0 {
		t.Errorf("logger at OFF wrote %q", buf.String())
	}
}

func TestSetLevelRejectsUnknownLevel(t *testing.T) {
	l := New(&bytes.Buffer{}, "text", slog.LevelInfo)
	if _, err := l.SetLevel("a", "LOUD"); err == nil || !strings.Contains(err.Error(), "LOUD") {
		t.Errorf("err = %v", err)
	}
}

func TestWithAttrsKeepsTheLoggersLevel(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", slog.LevelInfo)
	log := l.Logger("w").With("task", 3).WithGroup("g")
	log.Debug("before")
	if _, err := l.SetLevel("w", "DEBUG"); err != nil {
		t.Fatal(err)
	}
	log.Debug("after", "k", "v")
	out := buf.String()
	if strings.Contains(out, "before") || !strings.Contains(out, "after") || !strings.Contains(out, "task=3") || !strings.Contains(out, "g.k=v") {
		t.Errorf("output = %q", out)
	}
}

func BenchmarkDisabledDebug(b *testing.B) {
	log := New(&bytes.Buffer{}, "text", slog.LevelInfo).Logger("bench")
	b.ReportAllocs()
	for b.Loop() {
		log.Debug("nothing", "n", 1)
	}
}

// TestChildInheritsFromItsParentNotItsDottedPrefix models two connectors of one class and a third
// of another: the level of a connector's name reaches it and its task only, the level of the
// class or a package above it reaches every connector of the class, and a connector named like a
// package above its own class does not make the inheritance loop.
func TestChildInheritsFromItsParentNotItsDottedPrefix(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, "text", slog.LevelInfo)
	const class = "org.apache.kafka.connect.file.FileStreamSourceConnector"
	l.Child("a", class)
	l.Logger("a.task-0")
	l.Child("b", class)
	l.Logger("b.task-0")
	l.Child("org", "com.example.Other")
	l.Logger("org.task-0")
	level := func(name string) string {
		lvl, ok := l.Level(name)
		if !ok {
			t.Fatalf("logger %s unknown", name)
		}
		return lvl.Level
	}
	levels := func(names ...string) string {
		var out []string
		for _, n := range names {
			out = append(out, n+"="+level(n))
		}
		return strings.Join(out, " ")
	}
	all := []string{"a", "a.task-0", "b", "b.task-0", "org", "org.task-0"}

	affected, err := l.SetLevel("a", "DEBUG")
	if err != nil || !reflect.DeepEqual(affected, []string{"a", "a.task-0"}) {
		t.Fatalf("SetLevel(a) = %v, %v", affected, err)
	}
	if got, want := levels(all...), "a=DEBUG a.task-0=DEBUG b=INFO b.task-0=INFO org=INFO org.task-0=INFO"; got != want {
		t.Errorf("after a=DEBUG: %s, want %s", got, want)
	}
	if affected, err = l.SetLevel("org.apache.kafka", "WARN"); err != nil {
		t.Fatal(err)
	}
	if got, want := levels(all...), "a=WARN a.task-0=WARN b=WARN b.task-0=WARN org=INFO org.task-0=INFO"; got != want {
		t.Errorf("after org.apache.kafka=WARN (affected %v): %s, want %s", affected, got, want)
	}
	if _, err = l.SetLevel("com.example.Other", "ERROR"); err != nil {
		t.Fatal(err)
	}
	if got, want := levels("org", "org.task-0", "a"), "org=ERROR org.task-0=ERROR a=WARN"; got != want {
		t.Errorf("after com.example.Other=ERROR: %s, want %s", got, want)
	}
	// A task logger records at the level its connector's name was given.
	buf.Reset()
	l.Logger("b.task-0").Warn("shown")
	l.Logger("org.task-0").Warn("hidden")
	if out := buf.String(); !strings.Contains(out, "shown") || strings.Contains(out, "hidden") {
		t.Errorf("output %q", out)
	}
}
