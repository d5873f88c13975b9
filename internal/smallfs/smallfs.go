// Package smallfs gives a test a small file system of its own to fill, for
// what a program does when its disk is full: a tmpfs mounted for the test.
// Mounting needs root, which the tests have here and in CI; a test that
// cannot mount fails, saying why, rather than skip what it checks.
package smallfs

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size bytes on a fresh folder and returns the
// folder; the file system goes when the test ends.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.FormatInt(size, 10)); err != nil {
		t.Fatalf("mounting a tmpfs of %d bytes on %s for the test (it needs root, as in CI): %v", size, dir, err)
	}
	t.Cleanup(func() {
		// Detached at once, gone once nothing holds a file in it.
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmounting the test's tmpfs %s: %v", dir, err)
		}
	})
	return dir
}

// Filler is a file filling a file system.
type Filler struct{ path string }

// Fill writes a file in dir until its file system is full, then gives back
// room bytes (to the file system's page), and returns the file.
func Fill(t testing.TB, dir string, room int64) *Filler {
	t.Helper()
	f, err := os.CreateTemp(dir, "filler-*")
	if err != nil {
		t.Fatalf("filling %s: %v", dir, err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var size int64
	for {
		n, err := f.Write(chunk)
		size += int64(n)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			t.Fatalf("filling %s: %v", dir, err)
		}
	}
	if room > 0 {
		if err := f.Truncate(max(size-room, 0)); err != nil {
			t.Fatalf("giving back %d bytes of %s: %v", room, dir, err)
		}
	}
	return &Filler{path: f.Name()}
}

// Free removes the file, giving its space back.
func (f *Filler) Free(t testing.TB) {
	t.Helper()
	if err := os.Remove(f.path); err != nil {
		t.Fatalf("freeing %s: %v", filepath.Dir(f.path), err)
	}
}
