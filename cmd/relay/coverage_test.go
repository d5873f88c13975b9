package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/internal/bilingual"
	"github.com/qianliyan/qianliyan/relay"
	"github.com/qianliyan/qianliyan/relay/coverage"
	"github.com/qianliyan/qianliyan/relay/store"
	"github.com/qianliyan/qianliyan/relay/wire"
)

// TestCoverageWatches: the audit trail from the command line lists who
// watched which camera when, in the time zone asked, narrowed by officer.
func TestCoverageWatches(t *testing.T) {
	data := t.TempDir()
	ctx := context.Background()
	db, err := store.OpenDatabase(ctx, filepath.Join(data, relay.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	st := store.New(db)
	if err := st.PutSite(ctx, store.Site{ID: "site-01", Name: bilingual.New("一", "One"), District: bilingual.New("区", "D"), TimeZone: "Asia/Shanghai"},
		[]store.Camera{{Site: "site-01", ID: "doff1", Zone: "doffing_room_1", Name: bilingual.New("一脱间", "Doffing room 1")}}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC) // 08:00 in Shanghai
	cov := coverage.New(coverage.Config{DB: db, Catalogue: st, Now: func() time.Time { return at.Add(time.Hour) }})
	for _, o := range []struct {
		officer string
		from    time.Duration
	}{{"wang", 0}, {"li", 10 * time.Minute}} {
		if _, err := cov.Record(ctx, o.officer, wire.WatchBatch{Console: "c-" + o.officer, Now: at.Add(time.Hour), Intervals: []wire.WatchInterval{
			{ID: o.officer + "-1", Site: "site-01", Camera: "doff1", Mode: wire.ModeTile, Start: at.Add(o.from), End: at.Add(o.from + 5*time.Minute)}}}); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	out := mustCLI(t, "", "coverage", "watches", "--data", data, "--from", "2026-12-02T07:00", "--to", "2026-12-02T10:00")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "2026-12-02 08:00:00") || !strings.Contains(lines[1], "2026-12-02 08:05:00") ||
		!strings.Contains(lines[1], "wang") || !strings.Contains(lines[1], "site-01/doff1") || !strings.Contains(lines[2], "li") {
		t.Fatalf("coverage watches:\n%s", out)
	}
	if out := mustCLI(t, "", "--data", data, "coverage", "watches", "--from", "2026-12-02T00:00:00Z", "--officer", "li"); strings.Contains(out, "wang") || !strings.Contains(out, "li") {
		t.Fatalf("li's watches:\n%s", out)
	}
	for _, args := range [][]string{
		{"coverage", "watches", "--data", data},
		{"coverage", "watches", "--data", data, "--from", "yesterday"},
		{"coverage", "watches", "--data", data, "--from", "2026-12-02", "--to", "2026-12-01"},
	} {
		if code, _, errOut := cli(t, "", args...); code != 2 || errOut == "" {
			t.Errorf("relay %s: exit %d, %q; want a usage error", strings.Join(args, " "), code, errOut)
		}
	}
}
