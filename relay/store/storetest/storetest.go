// Package storetest opens the relay's database for the tests of the
// packages that keep records in it (findings, notify, the API): a fresh
// file with the whole schema, closed when the test ends.
package storetest

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/qianliyan/qianliyan/relay/store"
)

// Open opens a new relay database in the test's temporary directory and
// returns it with the catalogue over it.
func Open(t testing.TB) (*sql.DB, *store.Store) {
	t.Helper()
	db, err := store.OpenDatabase(context.Background(), filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatalf("opening the relay database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, store.New(db)
}
