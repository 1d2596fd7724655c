package rest

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/kconnect/kconnect/runtime/herder"
)

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	} `json:"components"`
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "patch": true, "delete": true, "head": true, "options": true}

func TestOpenAPIDocumentMatchesTheRouter(t *testing.T) {
	// Any handler makes the server route GET /metrics; the route is what is compared here.
	s, _ := newLoggingServer(t, func(c *Config) { c.Metrics = http.NotFoundHandler() })
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi = %q, want 3.x", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			if httpMethods[method] {
				documented[strings.ToUpper(method)+" "+path] = true
			}
		}
	}
	routed := map[string]bool{}
	err := chi.Walk(s.Handler().(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed[method+" "+route] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routed) < 25 {
		t.Fatalf("only %d routes walked: %v", len(routed), routed)
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for r := range documented {
		if !routed[r] {
			t.Errorf("openapi.json documents %s, which the router does not serve", r)
		}
	}
}

var refPattern = regexp.MustCompile(`"\$ref":\s*"#/components/schemas/([^"]+)"`)

func TestOpenAPIDocumentIsConsistent(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for _, m := range refPattern.FindAllStringSubmatch(string(openAPIDocument), -1) {
		if _, ok := doc.Components.Schemas[m[1]]; !ok {
			t.Errorf("$ref to undefined schema %s", m[1])
		}
	}
	opIDs := map[string]string{}
	for path, item := range doc.Paths {
		var params []string
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
			params = append(params, m[1])
		}
		declared := pathParams(t, item["parameters"])
		for method, raw := range item {
			if !httpMethods[method] {
				continue
			}
			var op struct {
				OperationID string                     `json:"operationId"`
				Parameters  json.RawMessage            `json:"parameters"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s %s has no responses", method, path)
			}
			if prev, dup := opIDs[op.OperationID]; dup || op.OperationID == "" {
				t.Errorf("%s %s: operationId %q missing or also used by %s", method, path, op.OperationID, prev)
			}
			opIDs[op.OperationID] = method + " " + path
			all := append(append([]string(nil), declared...), pathParams(t, op.Parameters)...)
			sort.Strings(all)
			want := append([]string(nil), params...)
			sort.Strings(want)
			if strings.Join(all, ",") != strings.Join(want, ",") {
				t.Errorf("%s %s declares path parameters %v, template has %v", method, path, all, want)
			}
		}
	}
}

func pathParams(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	if raw == nil {
		return nil
	}
	var params []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	}
	if err := json.Unmarshal(raw, &params); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range params {
		if p.In == "path" {
			out = append(out, p.Name)
		}
	}
	return out
}

func TestOpenAPIServed(t *testing.T) {
	s, _ := newTestServer(t, nil)
	rec := call(t, s.Handler(), "GET", "/openapi.json", "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" || rec.Body.String() != string(openAPIDocument) {
		t.Errorf("GET /openapi.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

// TestOpenAPISchemasMatchTheWireTypes checks that the validation schemas list exactly the JSON
// fields the server writes, kconnect's additions (a config value's warnings) included.
func TestOpenAPISchemasMatchTheWireTypes(t *testing.T) {
	var doc openAPIDoc
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"ConfigKeyInfo":   herder.ConfigKeyInfo{},
		"ConfigValueInfo": herder.ConfigValueInfo{},
		"ConfigInfo":      herder.ConfigInfo{},
		"ConfigInfos":     herder.ConfigInfos{},
	} {
		var schema struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(doc.Components.Schemas[name], &schema); err != nil {
			t.Fatalf("schema %s: %v", name, err)
		}
		documented := slices.Sorted(maps.Keys(schema.Properties))
		var written []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			if tag, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
				written = append(written, tag)
			}
		}
		slices.Sort(written)
		if !slices.Equal(documented, written) {
			t.Errorf("schema %s documents %v, the server writes %v", name, documented, written)
		}
	}
}
