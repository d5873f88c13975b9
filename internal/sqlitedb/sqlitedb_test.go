package sqlitedb

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestOpenMigratesOnceInOrder(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	v1 := fstest.MapFS{
		"0001_init.sql": {Data: []byte(`CREATE TABLE a (id INTEGER PRIMARY KEY);`)},
		"0002_more.sql": {Data: []byte(`CREATE TABLE b (a INTEGER NOT NULL REFERENCES a(id));`)},
		"README.md":     {Data: []byte(`not a migration`)},
	}
	db, err := Open(ctx, path, v1)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := SchemaVersion(ctx, db); v != 2 {
		t.Fatalf("schema version %d", v)
	}
	var mode string
	db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Fatalf("journal mode %s", mode)
	}
	if _, err := db.Exec(`INSERT INTO b (a) VALUES (42)`); err == nil {
		t.Fatal("foreign keys are off")
	}
	db.Close()

	v1["0003_c.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE c (x TEXT);`)}
	db, err = Open(ctx, path, v1)
	if err != nil {
		t.Fatalf("reopening applied the old migrations again: %v", err)
	}
	if v, _ := SchemaVersion(ctx, db); v != 3 {
		t.Fatalf("schema version %d after adding 0003", v)
	}
	db.Close()
}

func TestOpenRejectsBadMigrations(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"must start with a positive version": {"init.sql": {Data: []byte(`SELECT 1;`)}},
		"share version 1":                    {"0001_a.sql": {Data: []byte(`SELECT 1;`)}, "1_b.sql": {Data: []byte(`SELECT 1;`)}},
		"applying 0001_bad.sql":              {"0001_bad.sql": {Data: []byte(`CREATE TABLE (;`)}},
	}
	for want, migrations := range cases {
		_, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"), migrations)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

func TestTimeRoundTrip(t *testing.T) {
	in := time.Date(2026, 11, 24, 23, 5, 7, 123456789, time.FixedZone("CST", 8*3600))
	out, err := ParseTime(FormatTime(in))
	if err != nil || !out.Equal(in.Truncate(time.Millisecond)) {
		t.Fatalf("%v → %v (%v)", in, out, err)
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Fatal("garbage parsed")
	}
}
