package testenv

import (
	"os"
	"strconv"
	"testing"
)

// Count returns the whole number of at least 1 in envVar, or def when it is unset: how long
// loops (kill -9 iterations, stress rounds) are sized, short by default and long on demand.
func Count(t testing.TB, envVar string, def int) int {
	t.Helper()
	v := os.Getenv(envVar)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a whole number of at least 1", envVar, v)
	}
	return n
}
