package rest

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/kconnect/kconnect/runtime/herder"
)

// BenchmarkListConnectorsExpandStatus measures GET /connectors?expand=status with 500 connectors
// of 4 tasks each, through the whole handler (routing, middleware, JSON encoding).
func BenchmarkListConnectorsExpandStatus(b *testing.B) {
	s, h := newTestServer(b, nil)
	for i := range 500 {
		h.connectors[fmt.Sprintf("connector-%03d", i)] = &memConnector{
			config: map[string]string{"connector.class": "FileStreamSource", "tasks.max": "4", "topic": "t"},
			target: herder.TargetStarted,
		}
	}
	handler := s.Handler()
	req := httptest.NewRequest("GET", "/connectors?expand=status", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
