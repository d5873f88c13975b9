package store_test

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// The relay's data directory holds camera passwords, robot keys, its
// signing key and the evidence: with the usual umask (022) nothing in it
// may be readable by anyone but the relay's user.
func TestDataDirIsTheRelaysAlone(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := filepath.Join(t.TempDir(), "data")
	relaytest.Serve(t, relay.Options{Demo: true, DataDir: dir})
	seen := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		seen[rel] = true
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: mode %v, readable by others", rel, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{relay.DatabaseFile, relay.DatabaseFile + "-wal", relay.SigningKeyFile} {
		if !seen[name] {
			t.Errorf("no %s in the data directory: %v", name, seen)
		}
	}
}
