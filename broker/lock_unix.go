//go:build unix

package broker

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes an exclusive lock on dir, as Kafka locks its log dirs, so
// two brokers never write the same data dir. The lock dies with the
// process, so a crash leaves no stale lock behind.
func lockDir(dir string) (unlock func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock data dir %s: another broker is using it: %w", dir, err)
	}
	return func() error {
		if err := f.Close(); err != nil {
			return fmt.Errorf("unlock data dir %s: %w", dir, err)
		}
		return nil
	}, nil
}
