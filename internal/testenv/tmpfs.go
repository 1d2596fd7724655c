package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// MountTmpfs puts dir on a tmpfs of size (as mount's size option: "1m", "128m") that FillDisk
// can fill without touching the machine's disk, and unmounts it at cleanup (register it before
// starting what writes there, so that the unmount runs after that stopped). Mounting needs
// root: the error says so, and the caller decides whether that fails or skips its test.
func MountTmpfs(t testing.TB, dir, size string) error {
	t.Helper()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "kconnect-test", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cannot mount a tmpfs on %s (needs root): %v %s", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return nil
}

// FillDisk fills the file system dir is on (a small tmpfs) with one file until writes fail with
// ENOSPC, and returns the function that removes that file.
func FillDisk(t testing.TB, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill %s: %v", dir, err)
			}
			break
		}
	}
	if err := f.Close(); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}
