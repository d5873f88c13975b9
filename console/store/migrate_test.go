package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/qianliyan/qianliyan/internal/sqlitedb"
)

// openBefore opens a console database in dir as a console had it before
// migration first: with every migration older than it.
func openBefore(t *testing.T, dir, first string) *sql.DB {
	t.Helper()
	paths, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{}
	for _, p := range paths {
		if name := path.Base(p); name < first {
			b, err := fs.ReadFile(migrations, p)
			if err != nil {
				t.Fatal(err)
			}
			old[name] = &fstest.MapFile{Data: b}
		}
	}
	db, err := sqlitedb.Open(context.Background(), filepath.Join(dir, "console.db"), old)
	if err != nil {
		t.Fatalf("the database before %s: %v", first, err)
	}
	return db
}

// TestForwardMigrationKeepsQueuedChanges: a console that queued changes
// before migration 0003 sends them as the changes they were.
func TestForwardMigrationKeepsQueuedChanges(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openBefore(t, dir, "0003")
	const at = "2026-11-24T03:00:00.000Z"
	for _, q := range []string{
		`INSERT INTO findings (id, site, camera, deviation_text, severity, note, observer, observed_at, flagged_at, deadline, status, revision, updated_at)
		 VALUES ('f1', 'site-01', 'doff1', 'x', 'critical', 'n2', 'duty', '` + at + `', '` + at + `', '` + at + `', 'withdrawn', 3, '` + at + `')`,
		`INSERT INTO finding_events (finding_id, at, actor, action, detail) VALUES
		 ('f1', '` + at + `', 'duty', 'flagged', '{}'),
		 ('f1', '` + at + `', 'console', 'clip_complete', '{}'),
		 ('f1', '` + at + `', 'duty', 'edited', '{"note":"n2","severity":"critical"}'),
		 ('f1', '` + at + `', 'duty', 'withdrawn', '{"reason":"wrong camera"}')`,
		`INSERT INTO outbox (finding_id, kind, revision, created_at) VALUES
		 ('f1', 'finding', 1, '` + at + `'), ('f1', 'evidence', 0, '` + at + `'),
		 ('f1', 'finding', 2, '` + at + `'), ('f1', 'finding', 3, '` + at + `')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, dir)
	entries, err := s.Outbox(ctx, 0)
	if err != nil || len(entries) != 4 {
		t.Fatalf("outbox after migration: %+v %v", entries, err)
	}
	for i, want := range []string{"edited", "withdrawn"} {
		c, err := s.ChangeOf(ctx, entries[2+i])
		if err != nil || c.Action != want {
			t.Fatalf("revision %d after migration: %+v %v, want %s", entries[2+i].Revision, c, err, want)
		}
	}
	// Flagged before the migration: sent as it is now, the edits again
	// after it (the relay takes an edit that changes nothing).
	orig, err := s.Original(ctx, "f1")
	if err != nil || orig.Severity != "critical" || orig.Status != "open" {
		t.Fatalf("original after migration: %+v %v", orig, err)
	}
}

// TestRelayMigrationBindsOldFindings: findings flagged before migration
// 0004 are bound to the relay the console last signed in to; with none
// known they stay unbound until the first relay forwarded to takes them.
func TestRelayMigrationBindsOldFindings(t *testing.T) {
	const relayA, relayB = "https://relay-a.example:8443", "https://relay-b.example"
	for _, tc := range []struct {
		name    string
		setting string // the relay last signed in to; "" for none
		want    string // the relay the old finding is bound to
	}{
		{"last relay known", relayA, relayA},
		{"no relay known", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			db := openBefore(t, dir, "0004")
			const at = "2026-11-24T03:00:00.000Z"
			queries := []string{
				`INSERT INTO findings (id, site, camera, deviation_text, severity, observer, observed_at, flagged_at, deadline, updated_at)
				 VALUES ('f1', 'site-01', 'doff1', 'x', 'major', 'duty', '` + at + `', '` + at + `', '` + at + `', '` + at + `')`,
				`INSERT INTO outbox (finding_id, kind, revision, created_at) VALUES ('f1', 'finding', 1, '` + at + `')`,
			}
			if tc.setting != "" {
				queries = append(queries, `INSERT INTO settings (key, value, updated_at) VALUES ('relay', '`+tc.setting+`', '`+at+`')`)
			}
			for _, q := range queries {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()

			s := open(t, dir)
			f, err := s.Get(ctx, "f1")
			if err != nil || f.Relay != tc.want {
				t.Fatalf("after the migration: relay %q (%v), want %q", f.Relay, err, tc.want)
			}
			outboxOf := func(relay string) int {
				t.Helper()
				es, err := s.OutboxFor(ctx, relay, 0)
				if err != nil {
					t.Fatal(err)
				}
				return len(es)
			}
			if tc.want == "" {
				if f.Forward.WaitingFor != "" || outboxOf(relayB) != 0 {
					t.Fatalf("unbound: forward %+v, %d entries for B before binding", f.Forward, outboxOf(relayB))
				}
				if n, err := s.BindUnbound(ctx, relayB); err != nil || n != 1 {
					t.Fatalf("binding: %d %v", n, err)
				}
				tc.want = relayB
			}
			if outboxOf(tc.want) != 1 {
				t.Fatalf("the old finding's entry is not in the outbox of %s", tc.want)
			}
			if n, err := s.BindUnbound(ctx, "https://relay-c.example"); err != nil || n != 0 {
				t.Fatalf("binding again: %d %v; a bound finding stays bound", n, err)
			}
			for _, other := range []string{relayA, relayB} {
				if other != tc.want && outboxOf(other) != 0 {
					t.Fatalf("the old finding's entry is in the outbox of %s, bound to %s", other, tc.want)
				}
			}
		})
	}
}
