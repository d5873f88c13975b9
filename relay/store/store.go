// Package store keeps the relay's state in SQLite: sites, cameras, users,
// publish tokens and the record of WHEP sessions. The schema is a list of
// plain SQL migrations applied in order at Open.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when the asked-for row does not exist.
var ErrNotFound = errors.New("not found")

// Store is the relay database.
type Store struct {
	db *sql.DB
}

// Open opens (creating if need be) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("opening relay database: %w", err)
	}
	db, err := sqlitedb.Open(ctx, path, dir)
	if err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the database, for packages that keep their own tables in it
// (relay/findings, relay/notify) through migrations listed here.
func (s *Store) DB() *sql.DB { return s.db }

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return sqlitedb.SchemaVersion(ctx, s.db)
}

func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

func parseTime(s string) (time.Time, error) { return sqlitedb.ParseTime(s) }
