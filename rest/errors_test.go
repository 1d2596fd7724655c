package rest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMalformedJSONIs400(t *testing.T) {
	s, _ := newTestServer(t, nil)
	cases := map[string]string{
		`{"name":"a",`:        "Invalid JSON in request body: unexpected end of input",
		`{"name":"a",}`:       "Invalid JSON in request body at offset 13: invalid character '}' looking for beginning of object key string",
		`{name:"a"}`:          "Invalid JSON in request body at offset 2: invalid character 'n' looking for beginning of object key string",
		"   ":                 "Request body is empty; expected a JSON object",
		`{"connector.class":`: "Invalid JSON in request body: unexpected end of input",
	}
	for body, msg := range cases {
		expect(t, call(t, s.Handler(), "POST", "/connectors", body), 400, errJSON(400, msg))
	}
	expect(t, call(t, s.Handler(), "PUT", "/connectors/a/config", `{"a":`), 400, errJSON(400, "Invalid JSON in request body: unexpected end of input"))
	expect(t, call(t, s.Handler(), "PATCH", "/connectors/a/offsets", `{"offsets":[`), 400, errJSON(400, "Invalid JSON in request body: unexpected end of input"))
}

func TestWrongContentTypeIs415(t *testing.T) {
	s, _ := newTestServer(t, nil)
	// curl --data without -H sends a form content type; upstream (Jersey @Consumes JSON) answers 415.
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", "application/xml", "bogus/;;"} {
		expect(t, call(t, s.Handler(), "POST", "/connectors", fileSourceJSON, "Content-Type", ct), 415, errJSON(415, "HTTP 415 Unsupported Media Type"))
	}
	// JSON with a charset, or no Content-Type at all, is accepted.
	expect(t, call(t, s.Handler(), "PUT", "/connectors/a/config", `{"connector.class":"FileStreamSink"}`, "Content-Type", "application/json; charset=UTF-8"), 201,
		`{"name":"a","config":{"connector.class":"FileStreamSink","name":"a"},"tasks":[{"connector":"a","task":0}],"type":"sink"}`)
	req := httptest.NewRequest("PUT", "/connectors/b/config", strings.NewReader(`{"connector.class":"FileStreamSink"}`))
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 201 {
		t.Errorf("no Content-Type: %d %s", rec.Code, rec.Body.String())
	}
}

func TestOversizeBodyIs413(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.MaxBodyBytes = 64 })
	big := `{"name":"a","config":{"x":"` + strings.Repeat("y", 100) + `"}}`
	expect(t, call(t, s.Handler(), "POST", "/connectors", big), 413, errJSON(413, "Request body exceeds the limit of 64 bytes"))

	// Without a Content-Length the limit applies while reading.
	req := httptest.NewRequest("POST", "/connectors", strings.NewReader(big))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	expect(t, rec, 413, errJSON(413, "Request body exceeds the limit of 64 bytes"))
}

func TestUnknownPathIs404(t *testing.T) {
	s, _ := newTestServer(t, nil)
	for _, p := range []string{"/nope", "/connectors/a/b/c/d", "/connectors/a/unknown", "/connector-plugins/x", "/admin"} {
		expect(t, call(t, s.Handler(), "GET", p, ""), 404, errJSON(404, "HTTP 404 Not Found"))
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	s, _ := newTestServer(t, nil)
	cases := map[string]string{
		"DELETE /connectors":                       "GET, POST",
		"POST /connectors/a/config":                "GET, PUT, PATCH",
		"GET /connectors/a/restart":                "POST",
		"POST /connectors/a/pause":                 "PUT",
		"GET /connector-plugins/x/config/validate": "PUT",
		"PATCH /":             "GET",
		"OPTIONS /connectors": "GET, POST",
	}
	for req, allow := range cases {
		method, path, _ := strings.Cut(req, " ")
		rec := call(t, s.Handler(), method, path, "")
		expect(t, rec, 405, errJSON(405, "HTTP 405 Method Not Allowed"))
		if got := strings.Join(rec.Header().Values("Allow"), ", "); got != allow {
			t.Errorf("%s: Allow = %q, want %q", req, got, allow)
		}
	}
}

func TestHeadAnswersLikeGetWithoutBody(t *testing.T) {
	s, _ := newTestServer(t, nil)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Head(srv.URL + "/connectors")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestHandlerPanicIs500(t *testing.T) {
	s, h := newTestServer(t, nil)
	h.panicWith = "bug"
	expect(t, call(t, s.Handler(), "GET", "/connectors/a", ""), 500, errJSON(500, "Internal server error: bug"))
}
