package rest

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzCreateConnector sends arbitrary bodies to POST /connectors: whatever the input, the answer
// is never a 500 (the fake herder never fails) and every non-2xx body is the JSON error shape.
func FuzzCreateConnector(f *testing.F) {
	for _, seed := range []string{
		fileSourceJSON,
		`{"name":"a","config":{"connector.class":"FileStreamSink","tasks.max":1,"x":true,"y":null}}`,
		`{"name":"a","config":{"connector.class":"FileStreamSink"},"initial_state":"paused"}`,
		`{"name":"a","config":{"name":"b"}}`,
		`{"name":"","config":{}}`,
		`{"name":{"x":1},"config":[]}`,
		`{"name":"a","config":{"k":[1,2]}}`,
		`{"name":"a\u0000b","config":{"connector.class":"FileStreamSource"}}`,
		`{"name":"a","config":{"connector.class":"Nope"}}`,
		`{"name":1e400,"config":{"tasks.max":-0.0e-7}}`,
		`[]`, `null`, `"s"`, `{`, `{"name":"a","config":{}}}`, "\xff\xfe", ``,
		strings.Repeat(`[`, 5000),
	} {
		f.Add(seed)
	}
	s, h := newTestServer(f, nil)
	f.Fuzz(func(t *testing.T, body string) {
		rec := call(t, s.Handler(), "POST", "/connectors", body, "Content-Type", "application/json")
		switch {
		case rec.Code == 201:
			var info map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
				t.Fatalf("201 body %q: %v", rec.Body.String(), err)
			}
			// Forget it again so that the fake's state stays small over millions of inputs.
			name, _ := info["name"].(string)
			if err := h.DeleteConnector(t.Context(), name); err != nil {
				t.Fatalf("created connector %q cannot be deleted: %v", name, err)
			}
		case rec.Code == 400 || rec.Code == 409:
			var e errorBody
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode != rec.Code || e.Message == "" {
				t.Fatalf("%d body %q is not the error shape (%v)", rec.Code, rec.Body.String(), err)
			}
		default:
			t.Fatalf("body %q: status %d %s", body, rec.Code, rec.Body.String())
		}
	})
}
