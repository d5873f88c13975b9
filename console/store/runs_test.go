package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRunSurvivesReopen: a run's start and marks, each committed with its
// outbox entry, are there as they were when the store is opened again, in
// order, queued for the relay in order among the findings' entries.
func TestRunSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	if _, err := s.StartRun(ctx, NewRun{ID: "run-1", TemplateID: "ppe-doffing", TemplateVersion: 1, Template: []byte(`{"id":"ppe-doffing"}`),
		Camera: "site-01/doff1", Officer: "duty", At: at}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, flag()); err != nil {
		t.Fatal(err)
	}
	events := []RunEvent{
		{Kind: RunMarked, At: at.Add(time.Second), Step: "goggles", Mark: "done", Flags: []RunFlag{{Step: "goggles", Deviation: "wrong_order"}}},
		{Kind: RunTimerStarted, At: at.Add(2 * time.Second), Step: "hh-gloves"},
		{Kind: RunTimerStopped, At: at.Add(14 * time.Second), Step: "hh-gloves", Duration: 12 * time.Second},
		{Kind: RunMarked, At: at.Add(15 * time.Second), Step: "coverall", Mark: "deviation", DeviationText: "外表面接触"},
	}
	for i, ev := range events {
		seq, err := s.AddRunEvent(ctx, "run-1", ev)
		if err != nil || seq != i+2 {
			t.Fatalf("event %d: seq %d, %v", i, seq, err)
		}
	}
	s.Close() // as a kill leaves it: every commit is on disk

	s = open(t, dir)
	r, err := s.Run(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Seq != 5 || len(r.Events) != 5 || r.Events[0].Kind != RunStarted || !r.EndedAt.IsZero() || r.Camera != "site-01/doff1" {
		t.Fatalf("run after reopening %+v", r)
	}
	for i, ev := range events {
		got := r.Events[i+1]
		got.Seq = 0
		if fmt.Sprint(got) != fmt.Sprint(ev) {
			t.Fatalf("event %d after reopening\n%+v\nwant\n%+v", i+2, got, ev)
		}
	}
	open, err := s.Runs(ctx, true, 0)
	if err != nil || len(open) != 1 {
		t.Fatalf("open runs %+v, %v", open, err)
	}
	out, err := s.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range out {
		got = append(got, fmt.Sprintf("%s:%d", e.Kind, e.Revision))
	}
	if want := "[run:1 finding:1 run:2 run:3 run:4 run:5]"; fmt.Sprint(got) != want {
		t.Fatalf("outbox %v, want %s", got, want)
	}
	_, ev, err := s.RunEventOf(ctx, out[4])
	if err != nil || ev.Kind != RunTimerStopped || ev.Duration != 12*time.Second {
		t.Fatalf("the event of outbox entry %d: %+v, %v", out[4].Seq, ev, err)
	}

	// Ended, it takes nothing more; nor anything dated before its start.
	if _, err := s.AddRunEvent(ctx, "run-1", RunEvent{Kind: RunMarked, At: at.Add(-time.Second), Step: "goggles"}); !errors.Is(err, ErrBeforeStart) {
		t.Fatalf("an event before the start: %v", err)
	}
	if _, err := s.AddRunEvent(ctx, "run-1", RunEvent{Kind: RunEnded, At: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRunEvent(ctx, "run-1", RunEvent{Kind: RunMarked, At: at.Add(2 * time.Minute), Step: "goggles"}); !errors.Is(err, ErrRunEnded) {
		t.Fatalf("an event after the end: %v", err)
	}
	if _, err := s.AddRunEvent(ctx, "run-2", RunEvent{Kind: RunEnded, At: at}); !errors.Is(err, ErrRunNotFound) {
		t.Fatalf("an event of no run: %v", err)
	}
	if r, _ := s.Run(ctx, "run-1"); r.Seq != 6 || r.EndedAt.IsZero() {
		t.Fatalf("run after the refusals %+v", r)
	}
}

// TestRunsMigrationKeepsTheOutbox: entries queued before migration 0006
// made the outbox again are there after it, as they were; the next entry
// follows the last, and the trigger that ties a change to its history
// entry works on the new table.
func TestRunsMigrationKeepsTheOutbox(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openBefore(t, dir, "0006")
	const at = "2026-11-24T03:00:00.000Z"
	for _, q := range []string{
		`INSERT INTO findings (id, site, camera, deviation_text, severity, note, observer, observed_at, flagged_at, deadline, updated_at)
		 VALUES ('f1', 'site-01', 'doff1', 'x', 'major', '', 'duty', '` + at + `', '` + at + `', '` + at + `', '` + at + `')`,
		`INSERT INTO finding_events (finding_id, at, actor, action, detail) VALUES ('f1', '` + at + `', 'duty', 'flagged', '{}')`,
		`INSERT INTO outbox (finding_id, kind, revision, created_at, sent_at) VALUES ('f1', 'finding', 1, '` + at + `', '` + at + `')`,
		`INSERT INTO outbox (finding_id, kind, revision, created_at, attempts, last_error) VALUES ('f1', 'evidence', 0, '` + at + `', 2, 'down')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s := open(t, dir)
	out, err := s.Outbox(ctx, 0)
	if err != nil || len(out) != 1 || out[0].Seq != 2 || out[0].Kind != OutboxEvidence || out[0].Attempts != 2 || out[0].LastError != "down" {
		t.Fatalf("outbox after the migration %+v, %v", out, err)
	}
	if _, err := s.Withdraw(ctx, "f1", "duty", "wrong camera"); err != nil {
		t.Fatal(err)
	}
	out, err = s.Outbox(ctx, 0)
	if err != nil || len(out) != 2 || out[1].Seq != 3 || out[1].EventID == 0 {
		t.Fatalf("outbox after a change %+v, %v", out, err)
	}
	if c, err := s.ChangeOf(ctx, out[1]); err != nil || c.Action != "withdrawn" {
		t.Fatalf("the change of the new entry: %+v, %v", c, err)
	}
}
