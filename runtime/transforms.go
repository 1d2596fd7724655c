package runtime

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// transformStage is one configured transform with its optional predicate.
type transformStage struct {
	alias     string
	class     string // the plugin's class name, reported in dead-letter context headers
	transform connect.Transformation
	predicate connect.Predicate
	negate    bool
}

// chain applies transforms in order; an empty chain costs nothing per record.
type chain struct {
	stages     []transformStage
	predicates []connect.Predicate // each once, though several stages may share one
}

// apply runs rec through the chain; nil means a transform dropped the record.
func (c *chain) apply(rec *connect.Record) (*connect.Record, error) {
	for _, st := range c.stages {
		if st.predicate != nil && st.predicate.Test(rec) == st.negate {
			continue
		}
		out, err := st.transform.Apply(rec)
		if err != nil {
			return nil, &transformError{alias: st.alias, class: st.class, err: err}
		}
		if out == nil {
			return nil, nil
		}
		rec = out
	}
	return rec, nil
}

// transformError is the failure of one transform, naming it and its class.
type transformError struct {
	alias, class string
	err          error
}

func (e *transformError) Error() string { return fmt.Sprintf("transform %s: %v", e.alias, e.err) }

// Unwrap returns the transform's own error.
func (e *transformError) Unwrap() error { return e.err }

// close closes every transform and predicate, logging failures: a task that stops goes on stopping.
func (c *chain) close(log *slog.Logger) {
	for _, st := range c.stages {
		if err := st.transform.Close(); err != nil {
			log.Warn("close transform", "transform", st.alias, "err", err)
		}
	}
	for _, p := range c.predicates {
		if err := p.Close(); err != nil {
			log.Warn("close predicate", "err", err)
		}
	}
	c.stages, c.predicates = nil, nil
}

// buildChain instantiates the transforms and predicates a connector config declares
// (transforms=a,b with transforms.a.type=…, predicates=p with predicates.p.type=…). On failure
// what was already configured is closed again.
func buildChain(reg *connect.Registry, props map[string]string) (_ *chain, err error) {
	c := &chain{}
	defer func() {
		if err != nil {
			c.close(slog.Default())
		}
	}()
	predicates := map[string]connect.Predicate{}
	for _, alias := range splitList(props[Predicates]) {
		prefix := "predicates." + alias + "."
		cls := props[prefix+"type"]
		if cls == "" {
			return nil, fmt.Errorf("predicate %s: missing %stype", alias, prefix)
		}
		p, err := reg.Lookup(cls, connect.PluginPredicate)
		if err != nil {
			return nil, fmt.Errorf("predicate %s: %w", alias, err)
		}
		pred := p.New().(connect.Predicate)
		if err := pred.Configure(subConfig(props, prefix)); err != nil {
			return nil, fmt.Errorf("predicate %s: %w", alias, err)
		}
		predicates[alias] = pred
		c.predicates = append(c.predicates, pred)
	}
	for _, alias := range splitList(props[Transforms]) {
		prefix := "transforms." + alias + "."
		cls := props[prefix+"type"]
		if cls == "" {
			return nil, fmt.Errorf("transform %s: missing %stype", alias, prefix)
		}
		p, err := reg.Lookup(cls, connect.PluginTransformation)
		if err != nil {
			return nil, fmt.Errorf("transform %s: %w", alias, err)
		}
		tr := p.New().(connect.Transformation)
		sub := subConfig(props, prefix)
		implicit, err := transformImplicitDef(prefix).Parse(props)
		if err != nil {
			return nil, fmt.Errorf("transform %s: %w", alias, err)
		}
		st := transformStage{alias: alias, class: p.Class, transform: tr, negate: implicit.Bool(prefix + "negate")}
		if _, ok := sub["negate"]; ok && sub["predicate"] == "" {
			return nil, fmt.Errorf("Config '%snegate' was provided but there is no config '%spredicate' defining a predicate to be negated.", prefix, prefix)
		}
		if name := sub["predicate"]; name != "" {
			pred, ok := predicates[name]
			if !ok {
				return nil, fmt.Errorf("transform %s: predicate %q is not declared in %s", alias, name, Predicates)
			}
			st.predicate = pred
		}
		delete(sub, "predicate")
		delete(sub, "negate")
		if err := tr.Configure(sub); err != nil {
			return nil, fmt.Errorf("transform %s: %w", alias, err)
		}
		c.stages = append(c.stages, st)
	}
	return c, nil
}

// subConfig returns the keys under prefix with the prefix removed, minus "type".
func subConfig(props map[string]string, prefix string) map[string]string {
	out := connect.WithPrefix(props, prefix)
	delete(out, "type")
	return out
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
