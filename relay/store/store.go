// Package store keeps the relay's catalogue in SQLite (sites, cameras,
// users, publish tokens, the record of WHEP sessions) and owns the relay
// database's schema.
//
// The schema is one ordered history of plain SQL migrations (migrations/),
// applied by OpenDatabase, for every table of the database whichever
// package keeps its records there: one schema version to read, no order
// between several histories to get wrong, and a migration may move data
// across tables when it must (0005 starts the notifier at the findings'
// last event). Each table has one owner, the only package whose code reads
// or writes it:
//
//   - store: sites, cameras, camera_sources, users, user_sites,
//     publish_tokens, whep_sessions (0001–0003, 0007)
//   - relay/findings: findings, finding_events, finding_actions,
//     finding_evidence (0004, 0006, 0012)
//   - relay/notify: notify_cursor, notify_deliveries (0005)
//   - relay/runs: runs, run_events, run_steps, run_findings (0009)
//   - relay/shifts: duties, handovers, handover_receipts, camera_states (0010)
//   - relay/coverage: watch_intervals, watch_spans, watch_days,
//     watch_consoles (0011)
//   - relay/audit: audit_exports (0017)
//   - relay/reports: report_sends (0017)
//   - relay/stats: followups (0015)
//
// The relay hands the *sql.DB that OpenDatabase returns to each owner when
// it is wired (relay.Start); an owner needing another's records asks that
// owner (findings asks Store.HasSite), never its tables.
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

// Store is the catalogue in the relay database.
type Store struct {
	db *sql.DB
}

// OpenDatabase opens (creating if need be) the relay database at path and
// brings its whole schema up to date. The caller closes it.
func OpenDatabase(ctx context.Context, path string) (*sql.DB, error) {
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("opening relay database: %w", err)
	}
	return sqlitedb.Open(ctx, path, dir)
}

// New returns the catalogue over db (from OpenDatabase).
func New(db *sql.DB) *Store { return &Store{db: db} }

// Open opens the database at path for the catalogue alone (the admin
// commands, tests); Close closes it.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := OpenDatabase(ctx, path)
	if err != nil {
		return nil, err
	}
	return New(db), nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// SchemaVersion returns the highest applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return sqlitedb.SchemaVersion(ctx, s.db)
}

func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

func parseTime(s string) (time.Time, error) { return sqlitedb.ParseTime(s) }
