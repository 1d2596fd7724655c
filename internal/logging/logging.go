// Package logging provides named slog loggers whose levels can be changed while the worker runs,
// the way Kafka Connect's /admin/loggers endpoints change log4j levels.
//
// Logger names form a hierarchy with '.' separators, as in log4j: a logger without a level of
// its own takes the level of its nearest ancestor that has one, and finally the root level.
// Levels use log4j's names (ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF), mapped onto slog
// levels so that DEBUG, INFO, WARN and ERROR are slog's own.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Levels beyond slog's four, named as log4j names them.
const (
	LevelAll   slog.Level = math.MinInt32
	LevelTrace slog.Level = slog.LevelDebug - 4
	LevelFatal slog.Level = slog.LevelError + 4
	LevelOff   slog.Level = math.MaxInt32
)

// RootName is the name of the root logger, matched case-insensitively as log4j does.
const RootName = "root"

// ParseLevel parses a log4j level name, ignoring case.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "ALL":
		return LevelAll, nil
	case "TRACE":
		return LevelTrace, nil
	case "DEBUG":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "FATAL":
		return LevelFatal, nil
	case "OFF":
		return LevelOff, nil
	}
	return 0, fmt.Errorf("invalid log level %q: expected one of ALL, TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF", s)
}

// LevelName returns the log4j name of a level; a level between two named ones takes the name of
// the lower one, so a record at slog.LevelInfo+1 is reported as INFO.
func LevelName(l slog.Level) string {
	switch {
	case l >= LevelOff:
		return "OFF"
	case l >= LevelFatal:
		return "FATAL"
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	case l >= slog.LevelDebug:
		return "DEBUG"
	case l >= LevelTrace:
		return "TRACE"
	}
	return "ALL"
}

// LoggerLevel is a logger's level as GET /admin/loggers reports it: the level name and, if the
// level was changed at runtime, when (milliseconds since the epoch).
type LoggerLevel struct {
	Level        string `json:"level"`
	LastModified *int64 `json:"last_modified"`
}

// Loggers creates named loggers writing to one output and holds their levels.
type Loggers struct {
	base slog.Handler
	now  func() time.Time

	mu sync.Mutex
	// root is the root logger's level; rootVar carries it to loggers that inherit it.
	root    slog.Level
	rootVar *slog.LevelVar
	// explicit holds the loggers that have a level of their own.
	explicit map[string]slog.Level
	// known holds every logger created by Logger or named by SetLevel, with the effective level
	// its handler reads on every record (an atomic load, so logging never takes mu).
	known        map[string]*slog.LevelVar
	lastModified map[string]int64
	// parents holds the loggers whose level comes from a logger other than their dotted prefix
	// (see Child).
	parents map[string]string
}

// New returns loggers writing to w in format "json" or, for any other value, "text", with every
// logger at level root until SetLevel says otherwise.
func New(w io.Writer, format string, root slog.Level) *Loggers {
	opts := &slog.HandlerOptions{
		// Filtering happens per logger in levelHandler; the base handler takes everything.
		Level: LevelAll,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.LevelKey {
				if l, ok := a.Value.Any().(slog.Level); ok {
					return slog.String(slog.LevelKey, LevelName(l))
				}
			}
			return a
		},
	}
	var base slog.Handler
	if strings.EqualFold(format, "json") {
		base = slog.NewJSONHandler(w, opts)
	} else {
		base = slog.NewTextHandler(w, opts)
	}
	l := &Loggers{
		base:         base,
		now:          time.Now,
		root:         root,
		rootVar:      new(slog.LevelVar),
		explicit:     map[string]slog.Level{},
		known:        map[string]*slog.LevelVar{},
		lastModified: map[string]int64{},
		parents:      map[string]string{},
	}
	l.rootVar.Set(root)
	return l
}

func isRoot(name string) bool { return name == "" || strings.EqualFold(name, RootName) }

// Logger returns the logger called name, tagged with the attribute logger=name. Loggers of the
// same name share their level. The name "" or "root" returns the untagged root logger.
func (l *Loggers) Logger(name string) *slog.Logger {
	if isRoot(name) {
		return slog.New(&levelHandler{inner: l.base, level: l.rootVar})
	}
	l.mu.Lock()
	lv := l.register(name)
	l.mu.Unlock()
	return slog.New(&levelHandler{inner: l.base.WithAttrs([]slog.Attr{slog.String("logger", name)}), level: lv})
}

// Child returns the logger called name, as Logger does, but inheriting its level from parent
// rather than from the dotted prefixes of name. A connector's logger is named after the connector
// and is a child of its class, so setting the level of either the connector's name or its class
// (or a package above it) changes that connector, and no other, unless they share the class.
func (l *Loggers) Child(name, parent string) *slog.Logger {
	if !isRoot(name) && !isRoot(parent) {
		l.mu.Lock()
		if l.parents[name] != parent {
			l.parents[name] = parent
			if lv, ok := l.known[name]; ok {
				lv.Set(l.effective(name))
			}
		}
		l.mu.Unlock()
	}
	return l.Logger(name)
}

// ancestors calls f with name and then each logger it inherits its level from, nearest first,
// until f returns false. Only the first parent link set by Child is followed: connector names
// are arbitrary, and a connector named like a package above its own class would make a cycle.
func (l *Loggers) ancestors(name string, f func(string) bool) {
	hopped := false
	for n := name; n != ""; {
		if !f(n) {
			return
		}
		if p, ok := l.parents[n]; ok && !hopped {
			hopped, n = true, p
			continue
		}
		i := strings.LastIndexByte(n, '.')
		if i < 0 {
			return
		}
		n = n[:i]
	}
}

// register returns the level variable of a (possibly new) non-root logger; mu must be held.
func (l *Loggers) register(name string) *slog.LevelVar {
	lv, ok := l.known[name]
	if !ok {
		lv = new(slog.LevelVar)
		lv.Set(l.effective(name))
		l.known[name] = lv
	}
	return lv
}

// effective returns the level a logger gets from itself or its nearest ancestor; mu must be held.
func (l *Loggers) effective(name string) slog.Level {
	lvl := l.root
	l.ancestors(name, func(n string) bool {
		explicit, ok := l.explicit[n]
		if ok {
			lvl = explicit
		}
		return !ok
	})
	return lvl
}

// within reports whether the logger name is namespace or inherits from it; mu must be held.
func (l *Loggers) within(name, namespace string) bool {
	found := false
	l.ancestors(name, func(n string) bool {
		found = n == namespace
		return !found
	})
	return found
}

// Levels returns every logger that has a level of its own, plus the root logger, as
// GET /admin/loggers lists them.
func (l *Loggers) Levels() map[string]LoggerLevel {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]LoggerLevel, len(l.explicit)+1)
	for name, lvl := range l.explicit {
		out[name] = l.levelOf(name, lvl)
	}
	out[RootName] = l.levelOf(RootName, l.root)
	return out
}

// Level returns the effective level of a logger and whether such a logger exists (was created
// with Logger or named by SetLevel); the root logger always exists.
func (l *Loggers) Level(name string) (LoggerLevel, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if isRoot(name) {
		return l.levelOf(RootName, l.root), true
	}
	_, known := l.known[name]
	_, explicit := l.explicit[name]
	if !known && !explicit {
		return LoggerLevel{}, false
	}
	return l.levelOf(name, l.effective(name)), true
}

func (l *Loggers) levelOf(name string, lvl slog.Level) LoggerLevel {
	ll := LoggerLevel{Level: LevelName(lvl)}
	if ms, ok := l.lastModified[name]; ok {
		ll.LastModified = &ms
	}
	return ll
}

// SetLevel sets the level of the logger namespace and of every logger below it ("root" means
// every logger) and returns the names of those loggers, sorted, as PUT /admin/loggers/{name}
// does upstream. A logger whose level already equals level is left inheriting it, as log4j
// leaves it. The namespace logger is created if it does not exist yet.
func (l *Loggers) SetLevel(namespace, level string) ([]string, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UnixMilli()

	var targets []string
	if isRoot(namespace) {
		for name := range l.known {
			targets = append(targets, name)
		}
		for name := range l.explicit {
			if _, ok := l.known[name]; !ok {
				targets = append(targets, name)
			}
		}
	} else {
		l.register(namespace)
		for name := range l.known {
			if l.within(name, namespace) {
				targets = append(targets, name)
			}
		}
	}
	// Decide against the levels before this change, so the outcome does not depend on the
	// order in which the loggers are visited.
	var change []string
	for _, name := range targets {
		if l.effective(name) != lvl {
			change = append(change, name)
		}
	}
	for _, name := range change {
		l.explicit[name] = lvl
		l.lastModified[name] = now
	}
	if isRoot(namespace) {
		if l.root != lvl {
			l.root = lvl
			l.lastModified[RootName] = now
		}
		l.rootVar.Set(lvl)
		targets = append(targets, RootName)
	}
	for name, lv := range l.known {
		lv.Set(l.effective(name))
	}
	sort.Strings(targets)
	return slices.Compact(targets), nil
}

// levelHandler filters records by a logger's current level before they reach the shared handler.
type levelHandler struct {
	inner slog.Handler
	level *slog.LevelVar
}

func (h *levelHandler) Enabled(_ context.Context, l slog.Level) bool {
	floor := h.level.Level()
	return l >= floor && floor != LevelOff
}

func (h *levelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.Handle(ctx, r)
}

func (h *levelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &levelHandler{inner: h.inner.WithAttrs(attrs), level: h.level}
}

func (h *levelHandler) WithGroup(name string) slog.Handler {
	return &levelHandler{inner: h.inner.WithGroup(name), level: h.level}
}
