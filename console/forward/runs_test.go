package forward

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/qianliyan/qianliyan/checklist"
	"github.com/qianliyan/qianliyan/console/store"
	"github.com/qianliyan/qianliyan/internal/eventually"
	"github.com/qianliyan/qianliyan/relay/relaytest"
)

// startRun commits a run of the doffing checklist on site-01/doff1 with
// marks, one event each, and returns its id; the run is bound to no relay
// yet, as one made before any sign-in.
func startRun(t *testing.T, st *store.Store, at time.Time, marks []store.RunEvent) string {
	t.Helper()
	ctx := context.Background()
	lib, err := checklist.Load(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tpl, ok := lib.Get("ppe-doffing", 1)
	if !ok {
		t.Fatal("no ppe-doffing 1 among the embedded templates")
	}
	b, err := json.Marshal(tpl)
	if err != nil {
		t.Fatal(err)
	}
	id := "run-" + at.Format("150405.000")
	if _, err := st.StartRun(ctx, store.NewRun{ID: id, TemplateID: tpl.ID, TemplateVersion: tpl.Version, Template: b,
		Camera: "site-01/doff1", Officer: "duty", At: at}); err != nil {
		t.Fatal(err)
	}
	for i, ev := range marks {
		ev.At = at.Add(time.Duration(i+1) * time.Second)
		if _, err := st.AddRunEvent(ctx, id, ev); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// doffingMarks marks the ten steps of the doffing checklist: done but the
// respirator's deviation and the last step not seen, a flag raised on one.
func doffingMarks() []store.RunEvent {
	steps := []string{"hh-gloves", "goggles", "hh-after-goggles", "coverall", "hh-after-coverall", "enter-room-2",
		"respirator", "hh-after-respirator", "new-mask", "enter-clean"}
	var out []store.RunEvent
	for _, s := range steps {
		ev := store.RunEvent{Kind: store.RunMarked, Step: s, Mark: "done"}
		switch s {
		case "respirator":
			ev.Mark, ev.Deviation = "deviation", "face-touch"
		case "enter-clean":
			ev.Mark = "not_seen"
		case "hh-after-coverall":
			ev.Flags = []store.RunFlag{{Step: s, Deviation: "short_hand_rub"}}
		}
		out = append(out, ev)
	}
	return append(out, store.RunEvent{Kind: store.RunEnded})
}

// TestRunEventsForwardedOnceInOrderAcrossARelayOutage: two runs and a
// finding made while the relay is down reach it once it is back, every
// event once and in its run's order (the relay refuses one out of order,
// which would fail the entry), and the outbox sent again from the start,
// as after a crash before the console recorded the deliveries, changes
// nothing at the relay.
func TestRunEventsForwardedOnceInOrderAcrossARelayOutage(t *testing.T) {
	ctx := context.Background()
	tr := relaytest.Start(t, relaytest.Options{})
	duty := asDuty(t, tr)
	dir := t.TempDir()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	runForwarder(t, st, duty, Options{Poll: 100 * time.Millisecond})
	tr.Stop(t)

	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	a := startRun(t, st, at, doffingMarks())
	if _, err := st.Create(ctx, flagOf(t, 1, false)); err != nil {
		t.Fatal(err)
	}
	b := startRun(t, st, at.Add(time.Minute), doffingMarks()[:4]) // going on
	waitFailedAttempt(t, st)

	tr.Resume(t)
	eventually.True(t, eventually.Ceiling, "the outbox drained", func() bool { return pending(t, st) == 0 })
	local := openConsoleDB(t, dir)
	if n := count(t, local, `SELECT count(*) FROM outbox WHERE failed_at != ''`); n != 0 {
		t.Fatalf("%d entries refused by the relay", n)
	}
	check := func(when string) {
		t.Helper()
		ra, err := duty.Run(ctx, a)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		// Nine observed (not the last, not seen), seven done correctly
		// (not the deviation, not the flagged one).
		if ra.Seq != 12 || ra.EndedAt == nil || len(ra.Observations) != 10 || ra.StepsObserved != 9 || ra.StepsCorrect != 7 {
			t.Fatalf("%s: run a at the relay %+v", when, ra)
		}
		rb, err := duty.Run(ctx, b)
		if err != nil || rb.Seq != 5 || rb.EndedAt != nil || len(rb.Observations) != 4 {
			t.Fatalf("%s: run b at the relay %+v, %v", when, rb, err)
		}
		db := tr.DB(t)
		if n := count(t, db, `SELECT count(*) FROM run_events`); n != 17 {
			t.Fatalf("%s: %d run events at the relay, want 12 + 5", when, n)
		}
		stats, err := duty.CheckStats(ctx, "site-01", "", at, at.Add(2*time.Hour))
		if err != nil || len(stats.Stats) != 1 || stats.Stats[0].Checks != 1 || stats.Stats[0].ComplianceRate == nil ||
			*stats.Stats[0].ComplianceRate != 7.0/9 {
			t.Fatalf("%s: statistics %+v, %v", when, stats, err)
		}
	}
	check("forwarded")

	// Sent again from the start: every event is answered as done.
	writable, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "console.db")+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer writable.Close()
	if _, err := writable.Exec(`UPDATE outbox SET sent_at = '' WHERE kind = 'run'`); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, eventually.Ceiling, "the outbox drained again", func() bool { return pending(t, st) == 0 })
	if n := count(t, local, `SELECT count(*) FROM outbox WHERE failed_at != ''`); n != 0 {
		t.Fatalf("%d entries refused on the second sending", n)
	}
	check("sent again")
}

// openConsoleDB opens the console's database beside its store, read-only.
func openConsoleDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "console.db")+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
