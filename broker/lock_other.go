//go:build !unix

package broker

import (
	"fmt"
	"os"
)

// lockDir only creates dir on systems without flock; there two brokers
// sharing a data dir are not detected.
func lockDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	return func() error { return nil }, nil
}
