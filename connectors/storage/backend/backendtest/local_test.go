package backendtest_test

import (
	"testing"

	"github.com/kconnect/kconnect/connectors/storage/backend"
	"github.com/kconnect/kconnect/connectors/storage/backend/backendtest"
	"github.com/kconnect/kconnect/connectors/storage/backend/local"
)

func TestLocalConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Store {
		s, err := local.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
