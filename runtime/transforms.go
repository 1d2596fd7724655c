package runtime

import (
	"fmt"
	"strings"

	"github.com/kconnect/kconnect/connect"
)

// transformStage is one configured transform with its optional predicate.
type transformStage struct {
	alias     string
	transform connect.Transformation
	predicate connect.Predicate
	negate    bool
}

// chain applies transforms in order; an empty chain costs nothing per record.
type chain []transformStage

// apply runs rec through the chain; nil means a transform dropped the record.
func (c chain) apply(rec *connect.Record) (*connect.Record, error) {
	for _, st := range c {
		if st.predicate != nil && st.predicate.Test(rec) == st.negate {
			continue
		}
		out, err := st.transform.Apply(rec)
		if err != nil {
			return nil, fmt.Errorf("transform %s: %w", st.alias, err)
		}
		if out == nil {
			return nil, nil
		}
		rec = out
	}
	return rec, nil
}

// buildChain instantiates the transforms and predicates a connector config declares
// (transforms=a,b with transforms.a.type=…, predicates=p with predicates.p.type=…).
func buildChain(reg *connect.Registry, props map[string]string) (chain, error) {
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
	}
	var c chain
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
		st := transformStage{alias: alias, transform: tr, negate: strings.EqualFold(sub["negate"], "true")}
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
		c = append(c, st)
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
