package sqlitedb

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"
)

// A database holds what others must not read (the relay's camera passwords
// and robot keys): it and its WAL and shared-memory files are the owner's
// alone, whatever the umask and the directory's mode, and a database an
// older version left readable is made private when opened.
func TestFilesAreTheOwnersAlone(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	schema := fstest.MapFS{"0001_init.sql": {Data: []byte(`CREATE TABLE secrets (v TEXT);`)}}
	for _, c := range []struct {
		name     string
		existing os.FileMode // 0: no file before
	}{
		{"new", 0},
		{"left readable", 0o644},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "relay.db")
			if c.existing != 0 {
				for _, p := range []string{path, path + "-wal", path + "-shm"} {
					if err := os.WriteFile(p, nil, c.existing); err != nil {
						t.Fatal(err)
					}
				}
			}
			db, err := Open(context.Background(), path, schema)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`INSERT INTO secrets (v) VALUES ('rtsp://admin:secret@cam')`); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if mode := fi.Mode().Perm(); mode != 0o600 {
					t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), mode)
				}
			}
		})
	}
}
