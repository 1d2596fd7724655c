package runtime

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/kconnect/kconnect/connect"
)

// recorder is a transform and predicate that counts its Close calls and can be told to fail.
type recorder struct {
	closed *int
	fail   bool
}

func (r *recorder) ConfigDef() *connect.ConfigDef { return connect.NewConfigDef() }
func (r *recorder) Configure(props map[string]string) error {
	if props["fail"] == "true" {
		return errors.New("configure failed")
	}
	r.fail = props["apply.fail"] == "true"
	return nil
}
func (r *recorder) Apply(rec *connect.Record) (*connect.Record, error) {
	if r.fail {
		return nil, errors.New("boom")
	}
	out := *rec
	out.Topic += "+"
	return &out, nil
}
func (r *recorder) Test(rec *connect.Record) bool { return strings.HasPrefix(rec.Topic, "match") }
func (r *recorder) Close() error                  { *r.closed++; return nil }

func recorderRegistry(t *testing.T, closed *int) *connect.Registry {
	t.Helper()
	reg, err := connect.NewRegistry(
		connect.Plugin{Class: "test.T", Type: connect.PluginTransformation, New: func() any { return &recorder{closed: closed} }},
		connect.Plugin{Class: "test.P", Type: connect.PluginPredicate, New: func() any { return &recorder{closed: closed} }},
	)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestChainAppliesPredicatesAndClosesEverythingOnce(t *testing.T) {
	closed := 0
	c, err := buildChain(recorderRegistry(t, &closed), map[string]string{
		"transforms": "a,b,c", "predicates": "p",
		"transforms.a.type": "test.T",
		"transforms.b.type": "test.T", "transforms.b.predicate": "p",
		"transforms.c.type": "test.T", "transforms.c.predicate": "p", "transforms.c.negate": "true",
		"predicates.p.type": "test.P",
	})
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]string{"match": "match++", "other": "other++"} {
		out, err := c.apply(&connect.Record{Topic: topic})
		if err != nil {
			t.Fatal(err)
		}
		if out.Topic != want {
			t.Errorf("%s: topic %s, want %s (a always, b on a match, c on no match)", topic, out.Topic, want)
		}
	}
	c.close(slog.Default())
	if closed != 4 {
		t.Errorf("%d Close calls, want 4: three transforms and the shared predicate once", closed)
	}
}

func TestChainBuildFailureClosesWhatWasConfigured(t *testing.T) {
	closed := 0
	_, err := buildChain(recorderRegistry(t, &closed), map[string]string{
		"transforms": "a,b", "predicates": "p", "predicates.p.type": "test.P",
		"transforms.a.type": "test.T", "transforms.b.type": "test.T", "transforms.b.fail": "true",
	})
	if err == nil || !strings.Contains(err.Error(), "transform b: configure failed") {
		t.Fatalf("error %v, want the failing transform named", err)
	}
	if closed != 2 {
		t.Errorf("%d Close calls, want 2 (transform a and predicate p)", closed)
	}
	_, err = buildChain(recorderRegistry(t, &closed), map[string]string{
		"transforms": "a", "transforms.a.type": "test.T", "transforms.a.negate": "true"})
	if err == nil || !strings.Contains(err.Error(), "transforms.a.negate' was provided but there is no config 'transforms.a.predicate'") {
		t.Errorf("negate without predicate: %v", err)
	}
}

func TestTransformErrorNamesTransformAndClass(t *testing.T) {
	closed := 0
	c, err := buildChain(recorderRegistry(t, &closed), map[string]string{
		"transforms": "bad", "transforms.bad.type": "test.T", "transforms.bad.apply.fail": "true"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.apply(&connect.Record{Topic: "t"})
	var te *transformError
	if !errors.As(err, &te) || te.class != "test.T" || err.Error() != "transform bad: boom" {
		t.Fatalf("error %v (%T), want a transformError of test.T", err, err)
	}
}

func TestChainNegateIsABooleanNamedWhenInvalid(t *testing.T) {
	closed := 0
	props := func(negate string) map[string]string {
		return map[string]string{
			"transforms": "a", "predicates": "p",
			"transforms.a.type": "test.T", "transforms.a.predicate": "p", "transforms.a.negate": negate,
			"predicates.p.type": "test.P",
		}
	}
	for _, bad := range []string{"yes", "1", "on", ""} {
		_, err := buildChain(recorderRegistry(t, &closed), props(bad))
		if err == nil || !strings.Contains(err.Error(), "transforms.a.negate") {
			t.Errorf("negate=%q: got %v, want an error naming transforms.a.negate", bad, err)
		}
	}
	c, err := buildChain(recorderRegistry(t, &closed), props(" TRUE "))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close(slog.Default())
	// Negated: the transform applies to records the predicate does not match.
	out, err := c.apply(&connect.Record{Topic: "other"})
	if err != nil || out.Topic != "other+" {
		t.Fatalf("apply(other) = %v, %v; want topic other+", out, err)
	}
	out, err = c.apply(&connect.Record{Topic: "match"})
	if err != nil || out.Topic != "match" {
		t.Fatalf("apply(match) = %v, %v; want topic match untouched", out, err)
	}
}
