package transforms_test

import (
	"testing"

	"github.com/kconnect/kconnect/connect"
)

func TestDivergences(t *testing.T) {
	reg := goldenPlugins(t)
	newTransform := func(class string, props map[string]string) connect.Transformation {
		t.Helper()
		p, err := reg.Lookup(class, connect.PluginTransformation)
		if err != nil {
			t.Fatal(err)
		}
		tr := p.New().(connect.Transformation)
		if err := tr.Configure(props); err != nil {
			t.Fatal(err)
		}
		return tr
	}
	schema := connect.StructBuilder().Field("id", connect.Int64Schema).Field("amount", connect.OptionalFloat64Schema).MustBuild()
	value := connect.NewStruct(schema).Set("id", int64(1)).Set("amount", 2.5)
	fields := func(r *connect.Record) []string {
		var names []string
		for _, f := range r.ValueSchema.Fields {
			names = append(names, f.Name)
		}
		return names
	}
	for _, c := range []struct {
		props map[string]string
		want  []string
	}{
		{map[string]string{"blacklist": "amount"}, []string{"id"}},
		{map[string]string{"whitelist": "amount"}, []string{"amount"}},
		// The current name wins when both are set, as upstream's translation of deprecated keys did.
		{map[string]string{"whitelist": "amount", "include": "id"}, []string{"id"}},
	} {
		tr := newTransform("org.apache.kafka.connect.transforms.ReplaceField$Value", c.props)
		out, err := tr.Apply(&connect.Record{Topic: "t", ValueSchema: schema, Value: value})
		if err != nil {
			t.Fatal(err)
		}
		if got := fields(out); len(got) != len(c.want) || got[0] != c.want[0] {
			t.Errorf("%v: fields %v, want %v", c.props, got, c.want)
		}
	}

	tr := newTransform("SetSchemaMetadata$Value", map[string]string{"schema.version": "9"})
	named := connect.NewSchemaBuilder(connect.TypeString).Name("n").MustBuild()
	out, err := tr.Apply(&connect.Record{Topic: "t", ValueSchema: named, Value: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if out.ValueSchema.Version != 9 || out.ValueSchema.Name != "n" || out.Value != "x" {
		t.Errorf("SetSchemaMetadata on a string schema: %v %v", out.ValueSchema, out.Value)
	}
}
